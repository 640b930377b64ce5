import SDCClient
import SDCCore
import Testing
@testable import SDCSync

/// `sdc watch --mission`: which mission's routes each name goes to, and the reason a name goes to none.
struct MissionWatchUploaderTests {
    @Test func eachNameGoesToItsWatchedMissionOrIsRefusedWithTheReason() async throws {
        var configuration = SDCClientConfiguration(environment: [:], currentDirectory: "/")
        configuration.url = "http://127.0.0.1:9"
        try await DataAccessClient.withClient(configuration: configuration) { imap in
            try await MissionClient.withClient(configuration: configuration, mission: .hermes) { hermes in
                let hermesOnly = MissionWatchUploader(missions: try MissionSet([.hermes]), imap: imap, clients: [hermes])
                #expect(hermesOnly.nameProblem("hermes_EEA_l0_2024042-000000_v0.bin") == nil)
                #expect(hermesOnly.nameProblem("hermes_eea_l1_20240211T000000_v0.1.0.cdf") == nil)
                let unknown = hermesOnly.nameProblem("hermes_XYZ_l0_2024042-000000_v0.bin")
                #expect(unknown?.hasPrefix("hermes_XYZ_l0_2024042-000000_v0.bin is not a valid hermes file name: ") == true)
                #expect(hermesOnly.nameProblem("imap_swe_l1a_sci_20240105_v001.0000.cdf")
                        == "imap_swe_l1a_sci_20240105_v001.0000.cdf is a file name of IMAP, not of the watched missions (hermes)")
                #expect(hermesOnly.nameProblem("notes.txt") == "notes.txt is not a file name of a watched mission (hermes)")
                let both = MissionWatchUploader(missions: try MissionSet([.imap, .hermes]), imap: imap, clients: [hermes])
                #expect(both.nameProblem("imap_swe_l1a_sci_20240105_v001.0000.cdf") == nil)
                #expect(both.nameProblem("hermes_EEA_l0_2024042-000000_v0.bin") == nil)
                // IMAP's own rule still holds for IMAP's files.
                #expect(both.nameProblem("imap_swe_l1a_sci_20240105_v001.cdf") == FileWatcher.nameProblem("imap_swe_l1a_sci_20240105_v001.cdf"))
                #expect(both.nameProblem("imap_swe_l1a_sci_20240105_v001.cdf") != nil)
            }
        }
    }
}

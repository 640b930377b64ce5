import Foundation
import Testing
@testable import SDCCore

/// SWxSOC names agree with swxsoc 0.2.3 on every vector of `naming/swxsoc_vectors.json` (HERMES and PADRE).
struct MissionNamingVectorTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let mission: String
        /// `create` arguments, or nil for a parse vector.
        let arguments: [String: String]?
        let name: String?
        /// The created name, the parsed fields (values as Python's `str()`), or nil when swxsoc raised.
        let createdName: String?
        let fields: [String: String?]?
        let error: String?
        var testDescription: String { "\(mission) \(name ?? arguments?.description ?? "")" }
    }

    static let vectors: [Vector] = {
        let data = try! Data(contentsOf: TestData.root.appendingPathComponent("naming/swxsoc_vectors.json"))
        let document = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        var vectors: [Vector] = []
        for (mission, value) in (document["missions"] as! [String: Any]).sorted(by: { $0.key < $1.key }) {
            let entry = value as! [String: Any]
            for create in entry["create"] as! [[String: Any]] {
                let arguments = (create["args"] as! [String: Any]).mapValues { "\($0)" }
                let result = create["result"] as! String
                let failed = result.hasPrefix("ERROR ")
                vectors.append(Vector(mission: mission, arguments: arguments, name: nil, createdName: failed ? nil : result,
                                      fields: nil, error: failed ? result : nil))
            }
            for parse in entry["parse"] as! [[String: Any]] {
                let name = parse["name"] as! String
                if let error = parse["result"] as? String {
                    vectors.append(Vector(mission: mission, arguments: nil, name: name, createdName: nil, fields: nil, error: error))
                } else {
                    let fields = (parse["result"] as! [String: Any]).mapValues { $0 is NSNull ? nil : "\($0)" as String? }
                    vectors.append(Vector(mission: mission, arguments: nil, name: name, createdName: nil, fields: fields, error: nil))
                }
            }
        }
        return vectors
    }()

    @Test func vectorFileHasBothMissions() {
        #expect(Self.vectors.filter { $0.mission == "hermes" }.count == 14)
        #expect(Self.vectors.filter { $0.mission == "padre" }.count == 7)
    }

    @Test(arguments: vectors)
    func agreesWithSwxsoc(vector: Vector) throws {
        let mission = try #require(MissionProfile.builtIn[vector.mission])
        if let arguments = vector.arguments {
            let time = try #require(SWxSOCTime(iso: arguments["time"] ?? ""))
            let create = { () throws(NamingError) in
                try SWxSOCFileName.create(mission: mission, instrument: arguments["instrument"] ?? "", time: time,
                                          level: arguments["level"] ?? "", version: arguments["version"] ?? "",
                                          mode: arguments["mode"] ?? "", descriptor: arguments["descriptor"] ?? "",
                                          test: arguments["test"] == "1" || arguments["test"] == "true")
            }
            if let expected = vector.createdName {
                #expect(try create().name == expected)
            } else {
                #expect(throws: NamingError.self, "\(vector.error ?? "")") { try create() }
            }
            return
        }
        let name = try #require(vector.name)
        guard let expected = vector.fields else {
            #expect(throws: NamingError.self, "\(vector.error ?? "")") { try mission.parse(name) }
            return
        }
        let parsed = try mission.parse(name)
        guard case .swxsoc(let file) = parsed else { Issue.record("not a SWxSOC name"); return }
        #expect(file.instrument.name == expected["instrument"] ?? nil)
        #expect(file.mode == expected["mode"] ?? nil)
        #expect((file.isTest ? "True" : "False") == expected["test"] ?? nil)
        #expect(file.level == expected["level"] ?? nil)
        #expect(file.version?.text == expected["version"] ?? nil)
        #expect(file.descriptor == expected["descriptor"] ?? nil)
        #expect(file.time.isot == normalizedTime(expected["time"] ?? nil))
        if let missionField = expected["mission"] { #expect(file.mission == missionField) }
        #expect(file.kind == (expected["mission"] != nil ? .raw : .product))
    }
}

/// swxsoc prints times as astropy does: `2024-04-06T12:06:21.000` or `2024-02-11 00:00:00`.
func normalizedTime(_ text: String?) -> String? {
    guard var text else { return nil }
    text = text.replacingOccurrences(of: " ", with: "T")
    return text.contains(".") ? text : text + ".000"
}

struct MissionNamingTests {
    @Test func storageKeysFollowTheSwxsocLayoutUnderMissionAndInstrument() throws {
        #expect(try MissionProfile.hermes.parse("hermes_EEA_l0_2024042-000000_v0.bin").key
                == "hermes/eea/l0/2024/02/11/hermes_EEA_l0_2024042-000000_v0.bin")
        #expect(try MissionProfile.hermes.parse("hermes_eea_l1_20240406T120621_v1.2.3.cdf").key
                == "hermes/eea/l1/unknown/2024/04/06/hermes_eea_l1_20240406T120621_v1.2.3.cdf")
        #expect(try MissionProfile.padre.parse("padre_meddea_l1_spec_20250710T010203_v0.1.0.fits").key
                == "padre/meddea/l1/spectrum/2025/07/10/padre_meddea_l1_spec_20250710T010203_v0.1.0.fits")
        #expect(try MissionProfile.hermes.parse("hermes_mrt_ql_hk_20240406T120621_v1.0.0.cdf").key
                == "hermes/merit/ql/housekeeping/2024/04/06/hermes_mrt_ql_hk_20240406T120621_v1.0.0.cdf")
    }

    /// Each deliberate difference from swxsoc: swxsoc accepts (or misreads) these, sdc rejects them with the reason.
    @Test(arguments: [
        ("hermes_eea_fast_xyz_20240406T120621_v1.0.0.cdf", "invalid level 'xyz'"),
        ("hermes_eea_l1x_20240406T120621_v1.0.0.cdf", "invalid level 'l1x'"),
        ("hermes_eea_l1_20240406T120621_v1.0.cdf", "invalid version 'v1.0'"),
        ("hermes_eea_l1_20240406T120621_vvabc.cdf", "invalid version 'vvabc'"),
        ("hermes_eea_l1_a_b_c_20240406T120621_v1.0.0.cdf", "8 '_'-separated parts"),
        ("hermes_eea_l1_a_b_20240406T120621_v1.0.0.cdf", "'a_b' after the level"),
        ("hermes_eea_20240406T120621_v1.0.0.cdf", "4 '_'-separated parts"),
        ("hermes_eea_l1_20240406T1206_v1.2.3.cdf", "invalid time '20240406T1206'"),
        ("hermes_eea_l1_2024046T120621_v1.2.3.cdf", "invalid time '2024046T120621'"),
        ("hermes_eea_l1__20240406T120621_v1.2.3.cdf", "invalid descriptor ''"),
        ("padre_EEA_l0_2024042-000000_v0.bin", "is not a hermes file name"),
        ("xyz_eea_l0_2024042-000000.bin", "is not a hermes file name"),
        ("hermes_eea_l1_20240406T120621_v1.2.3.fits", "invalid extension 'fits'"),
        ("hermes_EEA_l0_2023366-000000_v0.bin", "no recognizable time"),
        ("hermes_EEA_l0_2024042-246000_v0.bin", "no recognizable time"),
        ("hermes_eea_l0.bin", "no recognizable time"),
        ("hermes_l0_2024042-000000.bin", "no hermes instrument found"),
        ("hermes_eea_l1_20240406T120621_v1.2.3.cdf/x", "path separator"),
    ])
    func rejectsWithTheReason(name: String, reason: String) {
        let error = #expect(throws: NamingError.self) { try MissionProfile.hermes.parse(name) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test func readsWhatSwxsocMisreads() throws {
        // swxsoc: level 'l1x' (the mode is taken for a level); sdc: mode l1x, level l1.
        guard case .swxsoc(let mode) = try MissionProfile.hermes.parse("hermes_eea_l1x_l1_20240406T120621_v1.0.0.cdf") else { return }
        #expect(mode.mode == "l1x" && mode.level == "l1")
        // swxsoc: test=True because the descriptor contains "test".
        guard case .swxsoc(let latest) = try MissionProfile.hermes.parse("hermes_eea_l1_latest_20240406T120621_v1.0.0.cdf") else { return }
        #expect(!latest.isTest && latest.descriptor == "latest")
        // swxsoc: instrument 'get0'.
        guard case .swxsoc(let craft) = try MissionProfile.padre.parse("padre_get0_1761936771334.csv") else { return }
        #expect(craft.instrument.name == "craft")
        #expect(craft.time.isot == "2025-10-31T18:52:51.334")
    }

    @Test func rawTimesInEverySwxsocForm() throws {
        let cases = [
            ("hermes_EEA_l0_2024042_000000_v0.bin", "2024-02-11T00:00:00.000"),
            ("hermes_EEA_l0_2024366-235959_v0.bin", "2024-12-31T23:59:59.000"),
            ("hermes_EEA_20240406T120621.bin", "2024-04-06T12:06:21.000"),
            ("hermes_EEA_240406120621.bin", "2024-04-06T12:06:21.000"),
            ("hermes_eea_l0_0000000000000.bin", "1970-01-01T00:00:00.000"),
            // 14 digits in a row hold a 13-digit Unix time first, as in swxsoc.
            ("hermes_EEA_l0_20240406120621_v0.bin", "2034-02-20T09:30:12.062"),
        ]
        for (name, time) in cases {
            guard case .swxsoc(let file) = try MissionProfile.hermes.parse(name) else { continue }
            #expect(file.time.isot == time, "\(name)")
            #expect(file.level == "l0" && file.kind == .raw)
        }
    }

    @Test func createRefusesWhatCouldNotBeReadBack() throws {
        let time = try #require(SWxSOCTime(iso: "2024-04-06T12:06:21"))
        for (mode, descriptor, version) in [("l2", "", "1.0.0"), ("", "a/b", "1.0.0"), ("", "", "-1.2.3"), ("", "", "1.2"), ("a b", "", "1.0.0")] {
            #expect(throws: NamingError.self) {
                try SWxSOCFileName.create(mission: .hermes, instrument: "eea", time: time, level: "l1", version: version,
                                          mode: mode, descriptor: descriptor)
            }
        }
        #expect(throws: NamingError.self) {
            try SWxSOCFileName.create(mission: .hermes, instrument: "nem", time: time, level: "l1", version: "1.0.0")
        }
        #expect(try SWxSOCFileName.createRaw(mission: .hermes, instrument: "nemisis", time: time).name
                == "hermes_NEM_l0_2024097-120621_v0.bin")
        #expect(try SWxSOCFileName.createRaw(mission: .padre, instrument: "meddea", time: time, fileExtension: "dat").name
                == "padre_MEDDEA_raw_2024097-120621_v0.dat")
    }

    /// Property: every name sdc creates parses back to the same parts, for every mission, instrument and level.
    @Test(arguments: ["hermes", "padre"])
    func createdNamesParseBack(mission name: String) throws {
        let mission = try #require(MissionProfile.builtIn[name])
        var random = SplitMix64(seed: 0x5EED_0000 + UInt64(name.count))
        let words = ["fast", "slow", "burst", "hk", "spec", "a-b", "x1", "test", "latest", "l1x", "raw2"]
        for _ in 0..<500 {
            let instrument = mission.instruments[Int(random.next() % UInt64(mission.instruments.count))]
            let level = mission.levels[Int(random.next() % UInt64(mission.levels.count))]
            let date = FileDate(ordinalDay: 730_000 + Int(random.next() % 20_000))
            let time = try #require(SWxSOCTime(date: date, hour: Int(random.next() % 24), minute: Int(random.next() % 60),
                                               second: Int(random.next() % 60)))
            let version = "\(random.next() % 10).\(random.next() % 100).\(random.next() % 1000)"
            var mode = random.next() % 3 == 0 ? words[Int(random.next() % UInt64(words.count))] : ""
            if mission.levels.contains(mode) || mission.levels.contains(where: { mode == $0 + "test" }) { mode = "" }
            let descriptor = random.next() % 2 == 0 ? words[Int(random.next() % UInt64(words.count))] : ""
            let test = random.next() % 4 == 0
            let file = try SWxSOCFileName.create(mission: mission, instrument: instrument.name, time: time, level: level,
                                                 version: version, mode: mode, descriptor: descriptor, test: test)
            guard case .swxsoc(let back) = try mission.parse(file.name) else { Issue.record("not SWxSOC"); return }
            #expect(back.instrument == instrument && back.level == level && back.time == time && back.isTest == test)
            #expect(back.mode == (mode.isEmpty ? nil : mode) && back.descriptor == (descriptor.isEmpty ? nil : descriptor))
            #expect(back.version?.text == version && back.kind == .product && back == file)

            let raw = try SWxSOCFileName.createRaw(mission: mission, instrument: instrument.name, time: time,
                                                   version: Int(random.next() % 10), fileExtension: "bin")
            guard case .swxsoc(let rawBack) = try mission.parse(raw.name) else { Issue.record("not SWxSOC"); return }
            #expect(rawBack.instrument == instrument && rawBack.time == time && rawBack.level == mission.rawLevel && rawBack.kind == .raw)
        }
    }

    /// IMAP through its mission profile is the IMAP grammar, unchanged.
    @Test func imapProfileIsTheIMAPGrammar() throws {
        let name = "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0000.cdf"
        let file = try MissionProfile.imap.parse(name)
        let direct = try IMAPFileName.parse(name)
        #expect(file == .imap(direct) && file.key == direct.key && file.className == "science" && file.fieldsJSON == direct.fieldsJSON)
        #expect(throws: NamingError.self) { try MissionProfile.imap.parse("hermes_eea_l1_20240406T120621_v1.2.3.cdf") }
        #expect(throws: NamingError.self) { try MissionProfile.hermes.parse(name) }
    }

    @Test func missionSetFindsTheOwnerOfAName() throws {
        let set = try MissionSet.resolve(names: ["imap", "hermes"])
        #expect(set.owner(of: "hermes_EEA_l0_2024042-000000_v0.bin")?.name == "hermes")
        #expect(set.owner(of: "imap_swe_l1a_sci_20240105_v001.0000.cdf")?.name == "imap")
        #expect(set.owner(of: "naif0012.tls")?.name == "imap")
        #expect(set.owner(of: "padre_meddea_l1_spec_20250710T010203_v0.1.0.fits") == nil)
        #expect(set.unhostedOwner(of: "padre_meddea_l1_spec_20250710T010203_v0.1.0.fits")?.name == "padre")
        #expect(MissionSet.imapOnly.names == ["imap"])
        let error = #expect(throws: MissionConfigurationError.self) { try MissionSet.resolve(names: ["imap", "reach"]) }
        #expect(error?.description.hasPrefix("mission 'reach': field 'missions': unknown mission") == true)
        #expect(throws: MissionConfigurationError.self) { try MissionSet.resolve(names: ["hermes", "hermes"]) }
    }

    @Test func configurationDefinesMissionsAndOverridesPackages() throws {
        let json = #"""
        {"missions": ["imap",
          {"name": "hermes", "instruments": [{"name": "eea", "package": "hermes_eea_test"}]},
          {"name": "reach", "file_extension": ".cdf", "levels": ["l0", "l1"],
           "instruments": [{"name": "dosimeter", "shortname": "dos", "aliases": ["rdos"]}]}]}
        """#
        let configuration = try MissionConfiguration(json: Array(json.utf8))
        #expect(configuration.missions.map(\.name) == ["imap", "hermes", "reach"])
        let hermes = configuration.missions[1]
        #expect(hermes.instruments.map(\.name) == ["eea"] && hermes.levels == MissionProfile.hermes.levels)
        #expect(hermes.instruments[0].packageName(mission: "hermes") == "hermes_eea_test")
        #expect(MissionProfile.hermes.instruments[1].packageName(mission: "hermes") == "hermes_nemisis")
        let reach = configuration.missions[2]
        guard case .swxsoc(let file) = try reach.parse("reach_dos_l1_20240406T120621_v1.0.0.cdf") else { return }
        #expect(file.instrument.name == "dosimeter" && file.key == "reach/dosimeter/l1/unknown/2024/04/06/reach_dos_l1_20240406T120621_v1.0.0.cdf")
        let set = try MissionSet.resolve(names: ["reach"], configuration: configuration)
        #expect(set.names == ["reach"])
    }

    @Test(arguments: [
        (#"{"missions": [{"name": "reach", "levels": [], "file_extension": "cdf", "instruments": [{"name": "a"}]}]}"#, "mission 'reach': field 'levels'"),
        (#"{"missions": [{"name": "reach", "levels": ["l0"], "instruments": [{"name": "a"}]}]}"#, "mission 'reach': field 'file_extension': missing"),
        (#"{"missions": [{"name": "reach", "levels": ["l0"], "file_extension": "cdf", "instruments": [{"name": "A B"}]}]}"#, "mission 'reach': field 'instruments'"),
        (#"{"missions": [{"name": "reach", "levels": ["l0"], "file_extension": "cdf", "instruments": [{"name": "a", "colour": 1}]}]}"#, "mission 'reach': field 'instruments': instrument 'a': unknown field 'colour'"),
        (#"{"missions": [{"name": "reach", "levels": ["l0", 1], "file_extension": "cdf", "instruments": []}]}"#, "mission 'reach': field 'levels': expected a list of strings"),
        (#"{"missions": [{"name": "imap", "levels": ["l0"]}]}"#, "mission 'imap': field 'name'"),
        (#"{"missions": [{"name": "hermes", "grammar": "imap"}]}"#, "mission 'hermes': field 'grammar'"),
        (#"{"missions": [{"name": "hermes", "instruments": [{"name": "eea", "package": "no-dash"}]}]}"#, "mission 'hermes': field 'instruments': instrument 'eea': package"),
        (#"{"missions": ["mars"]}"#, "mission 'mars': field 'name'"),
        (#"{"missions": ["hermes", "hermes"]}"#, "mission 'hermes': field 'missions'"),
        (#"{"mission": []}"#, "missions configuration: field 'missions'"),
    ])
    func configurationErrorsNameTheMissionAndField(json: String, expected: String) {
        let error = #expect(throws: MissionConfigurationError.self) { try MissionConfiguration(json: Array(json.utf8)) }
        #expect(error?.description.hasPrefix(expected) == true, "\(error?.description ?? "")")
    }
}

/// A small deterministic generator for the property tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

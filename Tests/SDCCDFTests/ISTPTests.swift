import Testing
@testable import SDCCDF

@Suite struct ISTPTests {
    @Test func smallFilePassesValidation() throws {
        let report = ISTPValidator().validate(try CDFReader(path: TestData.cdf("small.cdf")))
        #expect(report.errors.isEmpty, "\(report.text)")
    }

    @Test func validatorFindsBrokenMetadata() throws {
        let path = TestData.temporaryPath("istp.cdf")
        defer { FileSystem.remove(path) }
        try CDFWriter.write(to: path) { writer in
            try writer.addGlobalAttribute("Project", "STP>Solar-Terrestrial Physics")
            try writer.writeVariable(CDFVariableSpec(name: "Epoch", dataType: .tt2000, attributes: [
                CDFNamedEntry("VAR_TYPE", .string("support_data")), CDFNamedEntry("CATDESC", .string("t")),
                CDFNamedEntry("FIELDNAM", .string("t")), CDFNamedEntry("FORMAT", .string(" ")), CDFNamedEntry("UNITS", .string("ns")),
                CDFNamedEntry("LABLAXIS", .string("t")), CDFNamedEntry("FILLVAL", .tt2000(.min)),
                CDFNamedEntry("VALIDMIN", .tt2000(0)), CDFNamedEntry("VALIDMAX", .tt2000(1)),
            ]), values: .int64([1, 2]))
            try writer.writeVariable(CDFVariableSpec(name: "flux", dataType: .real4, dimensions: [3], attributes: [
                CDFNamedEntry("VAR_TYPE", .string("data")), CDFNamedEntry("DEPEND_0", .string("Epoch")),
                CDFNamedEntry("DEPEND_1", .string("energy")), CDFNamedEntry("LABL_PTR_1", .string("missing")),
                CDFNamedEntry("FILLVAL", try CDFAttributeEntry(dataType: .real8, values: .double([-1e31]))),
            ]), values: .float([1, 2, 3, 4, 5, 6]))
            try writer.writeVariable(CDFVariableSpec(name: "energy", dataType: .real4, dimensions: [4], recordVarying: false),
                                     values: .float([1, 2, 3, 4]))
        }
        let report = ISTPValidator().validate(try CDFReader(path: path))
        let messages = report.errors.map(\.description)
        #expect(messages.contains("required global attribute Logical_source is missing or empty"))
        #expect(messages.contains("flux: FILLVAL has type CDF_REAL8 but the variable is CDF_REAL4"))
        #expect(messages.contains("flux: LABL_PTR_1 names 'missing', which does not exist"))
        #expect(messages.contains("flux: DEPEND_1 target 'energy' has 4 values but dimension 1 has 3"))
        #expect(messages.contains("flux: CATDESC is required for VAR_TYPE data"))
        #expect(messages.contains("energy: VAR_TYPE is missing"))
        #expect(!messages.contains { $0.hasPrefix("Epoch:") }, "\(messages)")
    }

    @Test func imapLayersResolveLikeSammi() throws {
        var layers = try ISTPAttributeLayers.imap(folder: TestData.folder + "/cdf-attrs", instrument: "swapi",
                                                  variableFiles: ["imap_swapi_variable_attrs.yaml"])
        layers.fillPerFileValues(logicalSource: "imap_swapi_l1a_hk", startDate: "20250415", version: "v001",
                                 generationDate: "20250416", softwareVersion: "1.0.0")
        let (globals, missing) = layers.globalAttributes(for: "imap_swapi_l1a_hk")
        func value(_ name: String) -> ISTPValue? { globals.first { $0.key == name }?.value }
        #expect(value("Data_type") == .string("L1A_HK>Level-1A Housekeeping data"))
        #expect(value("Descriptor") == .string("SWAPI>Solar Wind and Pickup Ion"), "merged from the &instrument_base anchor")
        #expect(value("Project") == .string("STP>Solar Terrestrial Probes"))
        #expect(value("Logical_file_id") == .string("imap_swapi_l1a_hk_20250415_v001"))
        #expect(value("ground_software_version") == .string("1.0.0"))
        #expect(missing.isEmpty, "\(missing)")
        let (epoch, epochMissing) = layers.variableAttributes("epoch")
        #expect(epoch.first { $0.key == "VALIDMAX" }?.value == .integer(3_155_716_869_184_000_000))
        #expect(epochMissing.isEmpty, "\(epochMissing)")
        let entry = try ISTPAttributeLayers.entry(.integer(-9_223_372_036_854_775_808), numericType: .tt2000)
        #expect(entry == .tt2000(.min))
        let epochEntries = try layers.cdfVariableAttributes("epoch", dataType: .tt2000)
        #expect(epochEntries.first { $0.name == "VALIDMIN" }?.entry == .tt2000(315_576_066_184_000_000))
        #expect(epochEntries.first { $0.name == "CATDESC" }?.entry.dataType == .char)
        let cdfGlobals = try layers.cdfGlobalAttributes(for: "imap_swapi_l1a_hk")
        #expect(cdfGlobals.first { $0.name == "Logical_source" }?.entries == [.string("imap_swapi_l1a_hk")])
    }

    /// A product written from the IMAP layers passes the ISTP validator.
    @Test func productBuiltFromLayersValidates() throws {
        var layers = try ISTPAttributeLayers.imap(folder: TestData.folder + "/cdf-attrs", instrument: "mag",
                                                  variableFiles: ["imap_mag_l1a_variable_attrs.yaml"])
        layers.fillPerFileValues(logicalSource: "imap_mag_l1a_norm-mago", startDate: "20250415", version: "v001",
                                 generationDate: "20250416", softwareVersion: "1.0.0")
        let path = TestData.temporaryPath("mag.cdf")
        defer { FileSystem.remove(path) }
        try CDFWriter.write(to: path) { writer in
            for attribute in try layers.cdfGlobalAttributes(for: "imap_mag_l1a_norm-mago") {
                try writer.addGlobalAttribute(attribute.name, entries: attribute.entries)
            }
            try writer.writeVariable(
                CDFVariableSpec(name: "epoch", dataType: .tt2000, compression: .gzip6,
                                attributes: try layers.cdfVariableAttributes("epoch", dataType: .tt2000)),
                values: .int64([797_947_269_184_000_000, 797_947_270_184_000_000]))
        }
        let report = ISTPValidator().validate(try CDFReader(path: path))
        #expect(report.errors.isEmpty, "\(report.text)")
    }
}

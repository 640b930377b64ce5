extension IMAPFileName {
    /// The parsed components, keyed and ordered as imap-data-access reports them
    /// (the `fields` of `testdata/naming/imap_names.json`).
    public var fieldsJSON: JSONValue {
        switch fields {
        case .science(let f):
            return .object([
                ("mission", .string("imap")), ("instrument", .string(f.instrument.rawValue)),
                ("data_level", .string(f.dataLevel.rawValue)), ("descriptor", .string(f.descriptor)),
                ("start_date", .string(f.startDate.description)), ("repointing", .int(f.repointing)),
                ("cr", .int(f.carringtonRotation)), ("major_version", .int(f.version.major)),
                ("minor_version", .int(f.version.minor)), ("extension", .string(f.fileExtension)),
                ("version", .string(f.version.description)),
            ])
        case .ancillary(let f):
            return .object([
                ("mission", .string("imap")), ("instrument", .string(f.instrument.rawValue)),
                ("descriptor", .string(f.descriptor)), ("start_date", .string(f.startDate.description)),
                ("end_date", .string(f.endDate?.description)), ("repointing", .int(f.repointing)),
                ("version", .string(f.version.description)), ("extension", .string(f.fileExtension)),
            ])
        case .spice(let f):
            var members: [(String, JSONValue)] = [
                ("end_date", .string(f.endDate?.isoMidnight)), ("extension", .string(f.fileExtension)),
            ]
            if let prediction = f.predictionStartDate { members.append(("prediction_start_date", .string(prediction.isoMidnight))) }
            members += [
                ("repointing", .int(f.repointing)), ("start_date", .string(f.startDate?.isoMidnight)),
                ("type", .string(f.kernelType.rawValue)),
            ]
            if f.hasVersionField { members.append(("version", .string(f.version))) }
            return .object(members)
        }
    }
}

import SDCCatalog
import SDCCore

/// Catalog records as the rows the IMAP API returns (imap-api.md §3.1-3.2), keys in the reference server's order.
enum QueryRows {
    static func row(_ record: CatalogRecord) -> JSONValue {
        switch record.file.fields {
        case .science(let f):
            return .object([
                ("file_path", .string(record.key)), ("instrument", .string(f.instrument.rawValue)),
                ("data_level", .string(f.dataLevel.rawValue)), ("descriptor", .string(f.descriptor)),
                ("start_date", .string(f.startDate.description)), ("repointing", .int(f.repointing)),
                ("major_version", .int(f.version.major)), ("minor_version", .int(f.version.minor)),
                ("ingestion_date", .string(record.ingestionDate.compact)), ("cr", .int(f.carringtonRotation)),
                ("crid", .string(record.crid)), ("released", .bool(record.released)),
                ("extension", .string(f.fileExtension)), ("version", .string(f.version.description)),
            ])
        case .ancillary(let f):
            return .object([
                ("file_path", .string(record.key)), ("instrument", .string(f.instrument.rawValue)),
                ("descriptor", .string(f.descriptor)), ("start_date", .string(f.startDate.description)),
                ("end_date", .string(f.endDate?.description)), ("version", .string(f.version.description)),
                ("extension", .string(f.fileExtension)), ("ingestion_date", .string(record.ingestionDate.compact)),
                ("released", .bool(record.released)),
            ])
        case .spice(let f):
            let end = f.endDate ?? f.startDate
            return .object([
                ("file_name", .string(f.kernelType.directory + "/" + record.file.name)), ("file_root", .string(f.fileRoot)),
                ("kernel_type", .string(f.kernelType.rawValue)), ("version", .int(f.version.flatMap { Int($0) })),
                ("min_date_datetime", .string(f.startDate.map { UTCTime(date: $0).commaSeparated })),
                ("max_date_datetime", .string(end.map { UTCTime(date: $0.nextDay).addingSeconds(-1).commaSeparated })),
                ("min_date_j2000", j2000(f.startDate.map { UTCTime(date: $0) })),
                ("max_date_j2000", j2000(end.map { UTCTime(date: $0.nextDay).addingSeconds(-1) })),
                ("ingestion_date", .string(record.ingestionDate.commaSeparated)),
                ("timestamp", .double(Double(record.ingestionDate.secondsSince1970))),
                ("file_path", .string(record.key)),
            ])
        }
    }

    /// Seconds past J2000 (2000-01-01T11:58:55.816Z), or null.
    private static func j2000(_ time: UTCTime?) -> JSONValue {
        guard let time else { return .null }
        return .double(Double(time.secondsSince1970) - 946_727_935.816)
    }

    /// A row of `/repoint-table` (`file_path`, `end_date`, `version`, `ingestion_date`) or of `/spin-table` and
    /// `/thruster-table` (also `start_date`), dates as `YYYY-MM-DD, HH:MM:SS`.
    static func tableRow(_ record: CatalogRecord) -> JSONValue {
        guard let kernel = record.file.spice else { return row(record) }
        var members: [(String, JSONValue)] = [("file_path", .string(record.key))]
        if kernel.kernelType != .repoint {
            members.append(("start_date", .string(kernel.startDate.map { UTCTime(date: $0).commaSeparated })))
        }
        members += [
            ("end_date", .string(kernel.endDate.map { UTCTime(date: $0).commaSeparated })),
            ("version", .string(kernel.version)), ("ingestion_date", .string(record.ingestionDate.commaSeparated)),
        ]
        return .object(members)
    }

    static func array(_ records: [CatalogRecord]) -> String {
        JSONValue.array(records.map(row)).serialized()
    }
}

extension UTCTime {
    func addingSeconds(_ seconds: Int64) -> UTCTime { UTCTime(secondsSince1970: secondsSince1970 + seconds) }
}

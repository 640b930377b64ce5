import SDCCore

/// The `--output-format table` rendering of query results, byte for byte as imap-data-access 1.3.0 prints it
/// (`cli.py: _print_query_results_table`), quirks included:
///
/// * the table kind comes from the first row's keys (`kernel_type` → spice, `end_date` → ancillary,
///   `repointing` → science);
/// * `Data Level` and `Start Date` (science) and `Start Date`/`End Date` (ancillary) have fixed widths because
///   their width lookup uses keys that rows do not have;
/// * the science `Version` is rebuilt as `vMMM.mmmm` from `major_version`/`minor_version`;
/// * `CR` and `Repointing` columns appear only when some row has a non-empty value;
/// * SPICE rows print `file_name` with its directory while the column is sized for the basename.
public enum QueryResultTable {
    /// The table kinds the printer distinguishes.
    enum Kind: String {
        case science, ancillary, spice
        /// No recognised key in the first row: Python prints the science cells under ancillary headers.
        case unknown = ""
    }

    private static let spiceColumns: [(header: String, key: String)] = [
        ("Kernel Type", "kernel_type"), ("Min Date", "min_date_datetime"), ("Max Date", "max_date_datetime"),
        ("Ingestion Date", "ingestion_date"), ("Version", "version"),
    ]

    /// The printed text, newline-terminated lines.
    public static func render(_ rows: [JSONValue]) throws(SDCClientError) -> String {
        var text = ""
        try render(rows, into: &text)
        return text
    }

    /// Appends the printed text to `text`. When a row cannot be printed, `text` ends with what Python printed
    /// before raising (the count line).
    public static func render(_ rows: [JSONValue], into text: inout String) throws(SDCClientError) {
        guard !rows.isEmpty else {
            text += "Found [0] matching files\n"
            return
        }
        let kind = kind(of: rows[0])
        text += "Found [\(rows.count)] matching files in \(kind.rawValue) table\n"
        var items = try rows.map(Row.init)
        var lines: [String] = []

        if kind == .science {
            for index in items.indices {
                items[index].set("version", to: .string(try scienceVersion(of: items[index])))
            }
        }
        let hasCR = kind == .science && items.contains { isPresent($0["cr"]) }
        let hasRepointing = kind == .science && items.contains { isPresent($0["repointing"]) }

        var headers: [String]
        switch kind {
        case .science:
            headers = ["Instrument", "Data Level", "Descriptor", "Start Date", "Ingestion Date", "Version"]
            if hasCR { headers.append("CR") }
            if hasRepointing { headers.append("Repointing") }
        case .spice:
            headers = spiceColumns.map(\.header)
        case .ancillary, .unknown:
            headers = ["Instrument", "Descriptor", "Start Date", "End Date", "Ingestion Date", "Version"]
        }
        headers.append("Filename")

        var widths: [Int] = []
        for header in headers.dropLast() {
            let key = kind == .spice ? spiceColumns.first { $0.header == header }!.key : header.lowercased()
            widths.append(try width(of: header, items) { $0.str(key) })
        }
        let ingestionColumn = headers.firstIndex(of: "Ingestion Date")!
        widths[ingestionColumn] = try width(of: "Ingestion Date", items) { row throws(SDCClientError) in
            try row.basename("ingestion_date")
        }
        let fileKey = kind == .spice ? "file_name" : "file_path"
        widths.append(try width(of: "Filename", items) { row throws(SDCClientError) in try row.basename(fileKey) })

        let separator = "|" + String(repeating: "-", count: widths.reduce(0, +) + 3 * headers.count - 1) + "|"
        func line(_ cells: [String]) -> String {
            "| " + zip(cells, widths).map { PythonText.leftJustified($0, width: $1) }.joined(separator: " | ") + " |"
        }

        lines.append(separator)
        lines.append(line(headers))
        lines.append(separator)
        for item in items {
            var cells: [String]
            switch kind {
            case .spice:
                cells = spiceColumns.map { item.str($0.key) } + [item.str("file_name")]
            case .ancillary:
                cells = ["instrument", "descriptor", "start_date", "end_date", "ingestion_date", "version"].map(item.str)
                cells.append(try item.basename("file_path"))
            case .science, .unknown:
                cells = ["instrument", "data_level", "descriptor", "start_date", "ingestion_date", "version"].map(item.str)
                if hasCR { cells.append(item.str("cr")) }
                if hasRepointing { cells.append(item.str("repointing")) }
                cells.append(try item.basename("file_path"))
            }
            lines.append(line(cells))
        }
        lines.append(separator)
        text += lines.joined(separator: "\n") + "\n"
    }

    /// `max(len(header), *(len(cell(item)) for item in items))`.
    private static func width(
        of header: String, _ items: [Row], _ cell: (Row) throws(SDCClientError) -> String
    ) throws(SDCClientError) -> Int {
        var width = PythonText.length(header)
        for item in items { width = max(width, PythonText.length(try cell(item))) }
        return width
    }

    private static func kind(of first: JSONValue) -> Kind {
        if first["kernel_type"] != nil { return .spice }
        if first["end_date"] != nil { return .ancillary }
        if first["repointing"] != nil { return .science }
        return .unknown
    }

    /// `item.get(key) not in (None, "", [])`.
    private static func isPresent(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?, .string("")?, .array([])?: false
        default: true
        }
    }

    /// `_format_science_version`: `str(Version(major_version, minor_version))`, or the row's `version` as is
    /// when it has no minor version.
    private static func scienceVersion(of item: Row) throws(SDCClientError) -> String {
        guard let minorValue = item["minor_version"], minorValue != .null else { return item.str("version") }
        let majorValue = item["major_version"]
        let major = majorValue == nil || majorValue == .null ? nil : try versionComponent(majorValue!)
        let minor = try versionComponent(minorValue)
        if let major, !(0...999).contains(major) {
            throw .unexpectedResponse(pythonType: "ValueError", message: "Version \(major) must be between 0 and 999")
        }
        let maximumMinor = major == nil ? 999 : 9999
        guard (0...maximumMinor).contains(minor) else {
            throw .unexpectedResponse(pythonType: "ValueError", message: "Version \(minor) must be between 0 and \(maximumMinor)")
        }
        return ProductVersion(major: major, minor: minor).description
    }

    /// A major or minor version as `Version.__init__` takes it: an integer, or a string stripped of `v`.
    private static func versionComponent(_ value: JSONValue) throws(SDCClientError) -> Int {
        switch value {
        case .int(let number):
            return number
        case .string(let text):
            let stripped = String(text.drop { $0 == "v" }.reversed().drop { $0 == "v" }.reversed())
            guard let digits = PythonText.integer(stripped), let number = Int(digits) else {
                throw .unexpectedResponse(
                    pythonType: "ValueError", message: "invalid literal for int() with base 10: \(PythonText.repr(stripped))")
            }
            return number
        default:
            throw .unexpectedResponse(
                pythonType: "TypeError", message: "unsupported version value \(PythonText.repr(value)) in the response")
        }
    }

    /// One result row: an object's members in the server's order.
    private struct Row {
        private var members: [(String, JSONValue)]

        init(_ value: JSONValue) throws(SDCClientError) {
            guard case .object(let members) = value else {
                throw .unexpectedResponse(
                    pythonType: "AttributeError", message: "'\(PythonText.typeName(value))' object has no attribute 'get'")
            }
            self.members = members
        }

        subscript(key: String) -> JSONValue? { members.first { $0.0 == key }?.1 }

        mutating func set(_ key: String, to value: JSONValue) {
            if let index = members.firstIndex(where: { $0.0 == key }) {
                members[index].1 = value
            } else {
                members.append((key, value))
            }
        }

        /// `str(item.get(key, ""))`.
        func str(_ key: String) -> String { self[key].map(PythonText.str) ?? "" }

        /// `os.path.basename(item.get(key, ""))`, which raises for anything but a string.
        func basename(_ key: String) throws(SDCClientError) -> String {
            switch self[key] {
            case nil: return ""
            case .string(let path)?: return String(path[(path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex)...])
            case let other:
                throw .unexpectedResponse(
                    pythonType: "TypeError",
                    message: "expected str, bytes or os.PathLike object, not \(PythonText.typeName(other))")
            }
        }
    }
}

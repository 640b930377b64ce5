import SDCCore

/// imap-data-access's client-side `version=latest` for non-science tables (`io.py: query`): per
/// `(instrument, descriptor, data_level, start_date, repointing)` keep the row with the greatest
/// `minor_version` when the row has one, else the greatest `version` string. Series keep the position of
/// their first row.
enum LatestVersionFilter {
    static func apply(_ rows: [JSONValue]) throws(SDCClientError) -> [JSONValue] {
        var order: [[JSONValue]] = []
        var latest: [[JSONValue]: JSONValue] = [:]
        for row in rows {
            let key = [
                try required(row, "instrument"), try required(row, "descriptor"), row["data_level"] ?? .null,
                try required(row, "start_date"), row["repointing"] ?? .null,
            ]
            guard let current = latest[key] else {
                order.append(key)
                latest[key] = row
                continue
            }
            let versionKey = row["minor_version"] != nil ? "minor_version" : "version"
            if try isGreater(try required(row, versionKey), than: try required(current, versionKey)) {
                latest[key] = row
            }
        }
        return order.map { latest[$0]! }
    }

    /// `row[key]`, which raises `KeyError` in Python when absent.
    private static func required(_ row: JSONValue, _ key: String) throws(SDCClientError) -> JSONValue {
        guard case .object = row else {
            throw .unexpectedResponse(
                pythonType: "TypeError", message: "\(PythonText.typeName(row)) indices must be integers or slices, not str")
        }
        guard let value = row[key] else { throw .unexpectedResponse(pythonType: "KeyError", message: key) }
        return value
    }

    /// Python's `a > b` for numbers and strings (code point order); other combinations raise `TypeError`.
    private static func isGreater(_ a: JSONValue, than b: JSONValue) throws(SDCClientError) -> Bool {
        switch (a, b) {
        case let (.int(x), .int(y)): return x > y
        case let (.double(x), .double(y)): return x > y
        case let (.int(x), .double(y)): return Double(x) > y
        case let (.double(x), .int(y)): return x > Double(y)
        case let (.string(x), .string(y)): return y.unicodeScalars.lexicographicallyPrecedes(x.unicodeScalars)
        default:
            throw .unexpectedResponse(
                pythonType: "TypeError",
                message: "'>' not supported between instances of '\(PythonText.typeName(a))' and '\(PythonText.typeName(b))'")
        }
    }
}

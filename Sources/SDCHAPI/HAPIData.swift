import Logging
import NIOCore
import SDCCDF
import SDCCatalog
import SDCCore

/// The output formats of `/hapi/data` (§3.7.4).
public enum HAPIFormat: String, Sendable, CaseIterable {
    case csv, binary, json

    var contentType: String {
        switch self {
        case .csv: "text/csv"
        case .binary: "application/octet-stream"
        case .json: "application/json"
        }
    }
}

/// The records of one product that a request returns.
struct HAPIFileSlice: Sendable {
    let record: CatalogRecord
    let records: Range<Int>
}

/// What a data request will send, decided before the first byte so that the header's status can tell what was
/// skipped: the slice of each product in the range, and the products that could not be read.
struct HAPIDataPlan: Sendable {
    var slices: [HAPIFileSlice] = []
    /// Products skipped, with why (damaged or not matching the dataset's parameters).
    var skipped: [(key: String, reason: String)] = []

    var recordCount: Int { slices.reduce(0) { $0 + $1.records.count } }

    /// The status for the header: 1201 when there is nothing to send, 1200 otherwise, naming skipped products.
    var status: HAPIStatus {
        let detail = skipped.isEmpty ? nil
            : "skipped " + skipped.map { "\($0.key) (\($0.reason))" }.joined(separator: "; ")
        return HAPIStatus(recordCount == 0 ? .okNoData : .ok, detail: detail)
    }
}

/// Reads the products of a time range and writes their records in a HAPI format, one file and one chunk of records
/// at a time, so that memory stays bounded by one product's time variable and one chunk whatever the range.
struct HAPIDataReader: Sendable {
    let objects: HAPIObjects
    let pool: ProcessingPool
    let logger: Logger
    /// Encoded bytes per chunk, about (the records of a chunk are sized to it).
    var chunkBytes = 1 << 20

    /// Finds, in each product (sorted by start date), the records with `start <= time < stop` that come after the
    /// previous product's last record (products of neighbouring days may overlap at midnight). A product that cannot
    /// be opened, whose times are out of order, or whose variables do not match `parameters` is skipped and logged.
    func plan(_ records: [CatalogRecord], parameters: HAPIParameterList, start: Int64, stop: Int64) async -> HAPIDataPlan {
        var plan = HAPIDataPlan()
        var after = Int64.min
        for record in records {
            do {
                let previous = after
                let found = try await objects.withReader(of: record) { reader in
                    try await pool.run { try Self.select(in: reader, parameters: parameters, from: start, to: stop, strictlyAfter: previous) }
                }
                if let found {
                    plan.slices.append(HAPIFileSlice(record: record, records: found.records))
                    after = found.last
                }
            } catch {
                logger.error("HAPI skipped a product it cannot read", metadata: ["key": "\(record.key)", "error": "\(error)"])
                plan.skipped.append((record.key, "\(error)"))
            }
        }
        return plan
    }

    /// The records of `reader` in `[from, to)` and after `strictlyAfter`, with the last one's time; nil when none.
    static func select(in reader: CDFReader, parameters: HAPIParameterList, from: Int64, to: Int64,
                       strictlyAfter: Int64) throws -> (records: Range<Int>, last: Int64)? {
        for parameter in parameters.parameters {
            let variable = try reader.variable(named: parameter.name)
            guard variable.dataType.storage == parameter.dataType.storage, variable.dataType.isTime == parameter.dataType.isTime,
                  variable.valuesPerRecord == parameter.valuesPerRecord else {
                throw HAPIDatasetError(description: "variable \(parameter.name) is \(variable.dataType.name) \(variable.dimensions), the dataset's is \(parameter.dataType.name) \(parameter.size)")
            }
        }
        guard case .int64(let times) = try reader.values(of: parameters.timeName) else {
            throw HAPIDatasetError(description: "the time variable \(parameters.timeName) is not CDF_TIME_TT2000")
        }
        for index in times.indices.dropFirst() where times[index] < times[index - 1] {
            throw HAPIDatasetError(description: "record \(index) of \(parameters.timeName) is earlier than record \(index - 1)")
        }
        let lower = firstIndex(in: times) { $0 >= from && $0 > strictlyAfter }
        let upper = firstIndex(in: times) { $0 >= to }
        guard lower < upper else { return nil }
        return (lower..<upper, times[upper - 1])
    }

    /// The first index of sorted `times` whose value satisfies the monotonic `predicate`.
    private static func firstIndex(in times: [Int64], where predicate: (Int64) -> Bool) -> Int {
        var low = 0, high = times.count
        while low < high {
            let middle = (low + high) / 2
            if predicate(times[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Writes the records of `plan` in `format`; `write` sends each encoded chunk.
    func stream(_ plan: HAPIDataPlan, parameters: HAPIParameterList, format: HAPIFormat,
                write: (ByteBuffer) async throws -> Void) async throws {
        let bytesPerRecord = parameters.parameters.reduce(0) { $0 + max(8, $1.length ?? 0) * $1.valuesPerRecord + 16 }
        let chunkRecords = max(16, min(65_536, chunkBytes / max(1, bytesPerRecord)))
        var firstRecord = true
        for slice in plan.slices {
            try await objects.withReader(of: slice.record) { reader in
                var index = slice.records.lowerBound
                while index < slice.records.upperBound {
                    let range = index..<min(slice.records.upperBound, index + chunkRecords)
                    let leading = firstRecord
                    let bytes = try await pool.run {
                        try HAPIEncoder(format: format, parameters: parameters.parameters).encode(reader, records: range, first: leading, pool: pool)
                    }
                    firstRecord = false
                    try await write(ByteBuffer(bytes: bytes))
                    index = range.upperBound
                }
            }
        }
    }
}

/// Writes records in one HAPI format (§3.7.4): CSV rows, binary records, or the rows of a JSON `data` array.
struct HAPIEncoder {
    let format: HAPIFormat
    let parameters: [HAPIParameter]

    /// The records `records` of `reader`; `first` tells whether they open the stream (JSON separates rows by commas).
    /// The rows are formatted in parts on the calling thread and the processing pool's free threads.
    func encode(_ reader: CDFReader, records: Range<Int>, first: Bool, pool: ProcessingPool = .shared) throws -> [UInt8] {
        let columns = try parameters.map { parameter in
            let variable = try reader.variable(named: parameter.name)
            return try ValueColumn(values: reader.values(of: variable, records: records), dataType: variable.dataType)
        }
        let width = pool.threadCount + 1
        let partCount = max(1, min(width, records.count / 512))
        var parts = [[UInt8]](repeating: [], count: partCount)
        parts.withUnsafeMutableBufferPointer { slots in
            pool.forEach(partCount, width: width) { _, part in
                let rows = (records.count * part / partCount)..<(records.count * (part + 1) / partCount)
                slots[part] = encodeRows(rows, columns: columns, first: first && part == 0)
            }
        }
        return parts.count == 1 ? parts[0] : Array(parts.joined())
    }

    /// Rows `rows` (indices into `columns`' records).
    private func encodeRows(_ rows: Range<Int>, columns: [ValueColumn], first: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows.count * 24 * (parameters.count + 1))
        var field: [UInt8] = []
        for row in rows {
            switch format {
            case .csv:
                for (index, parameter) in parameters.enumerated() {
                    let width = parameter.valuesPerRecord
                    for element in 0..<width {
                        if index > 0 || element > 0 { bytes.append(0x2C) }
                        if parameter.type == .string {
                            field.removeAll(keepingCapacity: true)
                            columns[index].appendText(at: row * width + element, type: parameter.type, to: &field)
                            bytes.appendCSVField(field[...])
                        } else {
                            columns[index].appendText(at: row * width + element, type: parameter.type, to: &bytes)
                        }
                    }
                }
                bytes.append(0x0A)
            case .binary:
                for (index, parameter) in parameters.enumerated() {
                    let width = parameter.valuesPerRecord
                    for element in 0..<width {
                        columns[index].appendBinary(at: row * width + element, type: parameter.type, length: parameter.length ?? 0, to: &bytes)
                    }
                }
            case .json:
                bytes += (first && row == rows.lowerBound ? "\n[" : ",\n[").utf8
                for (index, parameter) in parameters.enumerated() {
                    if index > 0 { bytes.append(0x2C) }
                    var element = row * parameter.valuesPerRecord
                    appendJSON(columns[index], parameter: parameter, shape: parameter.size[...], element: &element, to: &bytes)
                }
                bytes.append(0x5D)
            }
        }
        return bytes
    }

    /// One JSON value: nested arrays of `shape` (last index fastest, §3.6.8), strings and times quoted, numbers bare
    /// (JSON has no NaN or infinity: those are written `null`).
    private func appendJSON(_ column: ValueColumn, parameter: HAPIParameter, shape: ArraySlice<Int>, element: inout Int,
                            to bytes: inout [UInt8]) {
        if let count = shape.first {
            bytes.append(0x5B)
            for index in 0..<count {
                if index > 0 { bytes.append(0x2C) }
                appendJSON(column, parameter: parameter, shape: shape.dropFirst(), element: &element, to: &bytes)
            }
            bytes.append(0x5D)
            return
        }
        switch parameter.type {
        case .string, .isotime:
            var text: [UInt8] = []
            column.appendText(at: element, type: parameter.type, to: &text)
            bytes.appendJSONString(String(decoding: text, as: UTF8.self), ensureASCII: false)
        case .integer:
            column.appendText(at: element, type: parameter.type, to: &bytes)
        case .double:
            let value = column.double(at: element)
            if value.isFinite { column.appendText(at: element, type: parameter.type, to: &bytes) } else { bytes += "null".utf8 }
        }
        element += 1
    }
}

/// Renders a `DecodeReport` for `sdc packets inspect`, as a table or as one JSON object.
public struct ReportWriter: Sendable {
    public init() {}

    /// A human-readable summary: totals, one row per APID, then damage, gaps and trailing bytes.
    public func text(_ report: DecodeReport) -> String {
        var lines = ["\(report.byteCount) bytes, \(report.packets) complete packets, \(report.decoded) decoded"]
        let header = ["APID", "CONTAINER", "PACKETS", "DECODED", "SIZE", "BYTES", "GAPS", "MISSING", "MET"]
        var rows = [header]
        for apid in report.apids {
            let size = apid.packets == 0 ? "-"
                : (apid.minimumSize == apid.maximumSize ? "\(apid.minimumSize)" : "\(apid.minimumSize)-\(apid.maximumSize)")
            let met = apid.metRange.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "-"
            rows.append(["\(apid.apid)", apid.container ?? "-", "\(apid.packets)", "\(apid.decoded)", size,
                         "\(apid.bytes)", "\(apid.gapCount)", "\(apid.missingPackets)", met])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let line = zip(row, widths).map { $0.padding(toLength: $1) }.joined(separator: "  ")
            lines.append(String(line.reversed().drop { $0 == " " }.reversed()))
        }
        for apid in report.apids {
            for (kind, damage) in apid.damage.sorted(by: { $0.key < $1.key }) {
                lines.append("APID \(apid.apid): \(damage.count) \(kind.rawValue) packet(s), first at byte \(damage.firstOffset)")
            }
            if let first = apid.gaps.first {
                lines.append("APID \(apid.apid): \(apid.gapCount) sequence gap(s), \(apid.missingPackets) missing packet(s), "
                             + "first \(first.before) -> \(first.after) at byte \(first.offset)")
            }
        }
        if let trailing = report.trailingBytes {
            lines.append("\(trailing.count) trailing byte(s) at offset \(trailing.offset), too few for a packet header")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report as one JSON object (keys in a fixed order).
    public func json(_ report: DecodeReport) -> String {
        var output = TextBuffer()
        output.append("{\"bytes\": \(report.byteCount), \"packets\": \(report.packets), \"decoded\": \(report.decoded), \"apids\": [")
        for (index, apid) in report.apids.enumerated() {
            if index > 0 { output.append(", ") }
            output.append("{\"apid\": \(apid.apid), \"container\": ")
            if let container = apid.container { output.appendJSONString(container) } else { output.append("null") }
            output.append(", \"packets\": \(apid.packets), \"decoded\": \(apid.decoded), \"bytes\": \(apid.bytes)")
            output.append(", \"min_size\": \(apid.packets == 0 ? 0 : apid.minimumSize), \"max_size\": \(apid.maximumSize)")
            output.append(", \"met_min\": \(apid.metRange.map { "\($0.lowerBound)" } ?? "null")")
            output.append(", \"met_max\": \(apid.metRange.map { "\($0.upperBound)" } ?? "null")")
            output.append(", \"gaps\": \(apid.gapCount), \"missing\": \(apid.missingPackets), \"first_gaps\": [")
            output.append(apid.gaps.map { "{\"offset\": \($0.offset), \"before\": \($0.before), \"after\": \($0.after)}" }
                .joined(separator: ", "))
            output.append("], \"damage\": {")
            output.append(apid.damage.sorted { $0.key < $1.key }
                .map { "\"\($0.key.rawValue)\": {\"count\": \($0.value.count), \"first_offset\": \($0.value.firstOffset)}" }
                .joined(separator: ", "))
            output.append("}}")
        }
        output.append("], \"trailing_bytes\": ")
        if let trailing = report.trailingBytes {
            output.append("{\"offset\": \(trailing.offset), \"count\": \(trailing.count)}")
        } else {
            output.append("null")
        }
        output.append("}\n")
        return String(decoding: output.bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}

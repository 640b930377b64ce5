import Foundation
import SDCCDF
import SDCCore

/// Server-side quicklook plots of a CDF product as SVG, ordered by what a scientist looks for: the science data
/// (ISTP `VAR_TYPE=data`), then housekeeping (other `support_data`), then the CCSDS packet header fields, collapsed.
/// A series whose every valid value is the same is one "constant: value" line, not a plot. Fill values (the variable's
/// `FILLVAL`, NaN, and fill times) are left out.
enum Quicklook {
    /// At most this many plots on a quicklook page (constants are listed, not plotted, and do not count).
    static let maximumPlots = 24

    static func canPlot(_ file: IMAPFileName) -> Bool {
        (file.science?.fileExtension ?? file.ancillary?.fileExtension) == "cdf"
    }

    /// Where a variable's panel goes on the page, in this order.
    enum Group: Int, Sendable, Comparable, CaseIterable {
        case data, housekeeping, header

        static func < (lhs: Group, rhs: Group) -> Bool { lhs.rawValue < rhs.rawValue }

        var title: String {
            switch self {
            case .data: "Science data"
            case .housekeeping: "Housekeeping and support data"
            case .header: "CCSDS packet header"
            }
        }

        var id: String {
            switch self {
            case .data: "data"
            case .housekeeping: "housekeeping"
            case .header: "header"
            }
        }
    }

    /// The CCSDS primary header fields (and the secondary header's coarse clock) as packet decoders name them: the
    /// same in every packet of an APID, so plots of them rarely tell anything.
    static let headerFields: Set<String> = ["version", "type", "sec_hdr_flg", "pkt_apid", "seq_flgs", "src_seq_ctr", "pkt_len", "shcoarse"]

    static func group(of variable: CDFVariable) -> Group {
        let name = variable.name.lowercased()
        if headerFields.contains(name) || name.hasPrefix("ccsds_") { return .header }
        return variable.attribute("VAR_TYPE")?.stringValue?.trimmingCharacters(in: .whitespaces) == "data" ? .data : .housekeeping
    }

    /// A variable that can be plotted: numeric, record-varying, at most one dimension, with a TT2000 `DEPEND_0`.
    struct Variable: Sendable, Equatable {
        let name: String
        let title: String
        let units: String
        let group: Group
        let time: String
        let bins: Int
        /// `DEPEND_1` (the y axis of a spectrogram), if any.
        let binVariable: String?
    }

    /// The plottable variables of a CDF, by group, in file order within a group; never `metadata`.
    static func variables(in reader: CDFReader) -> [Variable] {
        let plottable = reader.variables.compactMap { variable -> Variable? in
            guard variable.recordVarying, variable.recordCount > 0, variable.dimensions.count <= 1, isNumeric(variable.dataType),
                  let dependName = variable.attribute("DEPEND_0")?.stringValue,
                  variable.attribute("VAR_TYPE")?.stringValue != "metadata",
                  let timeVariable = try? reader.variable(named: dependName), timeVariable.dataType == .tt2000 else { return nil }
            let title = variable.attribute("CATDESC")?.stringValue ?? variable.attribute("FIELDNAM")?.stringValue ?? variable.name
            return Variable(name: variable.name, title: title, units: (variable.attribute("UNITS")?.stringValue ?? "").trimmingCharacters(in: .whitespaces),
                            group: group(of: variable), time: dependName, bins: variable.valuesPerRecord,
                            binVariable: variable.valuesPerRecord > 1 ? variable.attribute("DEPEND_1")?.stringValue : nil)
        }
        return plottable.enumerated().sorted { ($0.element.group, $0.offset) < ($1.element.group, $1.offset) }.map(\.element)
    }

    /// One plottable variable's values.
    struct Series: Sendable {
        enum Shape: Sendable { case line, spectrogram(bins: Int) }

        let name: String
        let title: String
        let units: String
        let group: Group
        let shape: Shape
        /// Seconds since ``startTT2000``, per record; nil where the time is fill.
        let times: [Double?]
        let startTT2000: Int64
        /// Row-major: records, then bins.
        let values: [Double]
        let fill: Double?
        /// The spectrogram's y axis: `DEPEND_1`'s name, units and values per bin, when it has one value per bin.
        var binAxis: (name: String, units: String, values: [Double])?

        func isValid(_ value: Double) -> Bool {
            value.isFinite && value != fill && !(fill.map { abs($0) >= 1e30 && abs(value) >= 1e30 } ?? false)
        }

        /// The one value every valid sample has, when there is exactly one (and at least one sample).
        var constantValue: Double? {
            var found: Double?
            for (index, value) in values.enumerated() where times[index / max(1, binCount)] != nil && isValid(value) {
                if let known = found { guard known == value else { return nil } } else { found = value }
            }
            return found
        }

        var binCount: Int {
            if case .spectrogram(let bins) = shape { bins } else { 1 }
        }

        /// The number of valid samples.
        var validCount: Int {
            var count = 0
            for (index, value) in values.enumerated() where times[index / max(1, binCount)] != nil && isValid(value) { count += 1 }
            return count
        }
    }

    /// The time window a quicklook shows: TT2000 bounds, either open.
    struct TimeRange: Sendable, Hashable {
        var from: Int64?
        var to: Int64?

        static let all = TimeRange(from: nil, to: nil)

        func contains(_ instant: Int64) -> Bool {
            (from.map { instant >= $0 } ?? true) && (to.map { instant <= $0 } ?? true)
        }
    }

    /// The series of `variables` (all plottable ones when nil), within `range`.
    static func series(in reader: CDFReader, variables wanted: [String]? = nil, range: TimeRange = .all) throws -> [Series] {
        let all = variables(in: reader)
        let chosen = wanted.map { names in names.compactMap { name in all.first { $0.name == name } } } ?? all
        var result: [Series] = []
        var timeCache: [String: (times: [Double?], start: Int64, keep: [Bool])] = [:]
        for variable in chosen {
            let time: (times: [Double?], start: Int64, keep: [Bool])
            if let cached = timeCache[variable.time] {
                time = cached
            } else {
                guard case .int64(let raw) = try reader.values(of: variable.time) else { continue }
                let valid = { (value: Int64) in value != TT2000.fillValue && value != TT2000.padValue }
                let keep = raw.map { valid($0) && range.contains($0) }
                let start = zip(raw, keep).first { $0.1 }?.0 ?? raw.first(where: valid) ?? 0
                time = (zip(raw, keep).map { $0.1 ? PlotMath.seconds(from: start, to: $0.0) : nil }, start, keep)
                timeCache[variable.time] = time
            }
            guard let variableEntry = try? reader.variable(named: variable.name) else { continue }
            let values = doubles(try reader.values(of: variableEntry))
            let bins = max(1, variable.bins)
            let records = min(time.times.count, values.count / bins)
            guard records > 0 else { continue }
            var series = Series(
                name: variable.name, title: variable.title, units: variable.units, group: variable.group,
                shape: bins > 1 ? .spectrogram(bins: bins) : .line,
                times: Array(time.times.prefix(records)), startTT2000: time.start, values: Array(values.prefix(records * bins)),
                fill: variableEntry.attribute("FILLVAL").flatMap { doubles($0.values).first })
            if let binName = variable.binVariable, let binVariable = try? reader.variable(named: binName), isNumeric(binVariable.dataType) {
                let binValues = doubles(try reader.values(of: binVariable, records: 0..<1))
                if binValues.count == bins {
                    series.binAxis = (binName, (binVariable.attribute("UNITS")?.stringValue ?? "").trimmingCharacters(in: .whitespaces), binValues)
                }
            }
            result.append(series)
        }
        return result
    }

    static func isNumeric(_ type: CDFDataType) -> Bool {
        switch type {
        case .int1, .int2, .int4, .int8, .uint1, .uint2, .uint4, .byte, .real4, .real8, .float, .double: true
        default: false
        }
    }

    static func doubles(_ values: CDFValues) -> [Double] {
        switch values {
        case .int8(let v): v.map(Double.init)
        case .int16(let v): v.map(Double.init)
        case .int32(let v): v.map(Double.init)
        case .int64(let v): v.map(Double.init)
        case .uint8(let v): v.map(Double.init)
        case .uint16(let v): v.map(Double.init)
        case .uint32(let v): v.map(Double.init)
        case .float(let v): v.map(Double.init)
        case .double(let v): v
        case .epoch16, .strings: []
        }
    }
}

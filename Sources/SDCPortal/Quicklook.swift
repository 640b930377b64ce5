import Foundation
import SDCCDF
import SDCCore

/// Server-side quicklook plots of a CDF product as SVG: a line plot with a time axis for each 1-D time series, a
/// spectrogram for each 2-D one. Fill values (the variable's `FILLVAL`, NaN, and fill times) are left out.
enum Quicklook {
    /// At most this many plots on a quicklook page.
    static let maximumPlots = 24

    static func canPlot(_ file: IMAPFileName) -> Bool {
        (file.science?.fileExtension ?? file.ancillary?.fileExtension) == "cdf"
    }

    /// One plottable variable.
    struct Series: Sendable {
        enum Shape: Sendable { case line, spectrogram(bins: Int) }

        let name: String
        let title: String
        let units: String
        let shape: Shape
        /// Seconds since the first valid time, per record; nil where the time is fill.
        let times: [Double?]
        let startTT2000: Int64
        /// Row-major: records, then bins.
        let values: [Double]
        let fill: Double?
    }

    /// The time-series variables of a CDF: numeric, record-varying, with a `DEPEND_0` TT2000 time variable; `data`
    /// variables first, then `support_data` (a Level 1A product holds only those), never `metadata`.
    static func series(in reader: CDFReader, limit: Int = maximumPlots) throws -> [Series] {
        let candidates = reader.variables.filter { variable in
            guard variable.recordVarying, variable.recordCount > 0, variable.dimensions.count <= 1, isNumeric(variable.dataType),
                  let dependName = variable.attribute("DEPEND_0")?.stringValue,
                  variable.attribute("VAR_TYPE")?.stringValue != "metadata",
                  let timeVariable = try? reader.variable(named: dependName) else { return false }
            return timeVariable.dataType == .tt2000
        }
        let ordered = candidates.filter { $0.attribute("VAR_TYPE")?.stringValue == "data" }
            + candidates.filter { $0.attribute("VAR_TYPE")?.stringValue != "data" }
        var result: [Series] = []
        var timeCache: [String: (times: [Double?], start: Int64)] = [:]
        for variable in ordered.prefix(limit) {
            guard let dependName = variable.attribute("DEPEND_0")?.stringValue,
                  let timeVariable = try? reader.variable(named: dependName) else { continue }
            let time: (times: [Double?], start: Int64)
            if let cached = timeCache[dependName] {
                time = cached
            } else {
                guard case .int64(let raw) = try reader.values(of: timeVariable) else { continue }
                let start = raw.first { $0 != TT2000.fillValue && $0 != TT2000.padValue } ?? 0
                time = (raw.map { $0 == TT2000.fillValue || $0 == TT2000.padValue ? nil : PlotMath.seconds(from: start, to: $0) }, start)
                timeCache[dependName] = time
            }
            let values = doubles(try reader.values(of: variable))
            let bins = variable.valuesPerRecord
            let records = min(time.times.count, values.count / max(1, bins))
            guard records > 0 else { continue }
            let title = variable.attribute("CATDESC")?.stringValue ?? variable.attribute("FIELDNAM")?.stringValue ?? variable.name
            result.append(Series(
                name: variable.name, title: title, units: variable.attribute("UNITS")?.stringValue ?? "",
                shape: bins > 1 ? .spectrogram(bins: bins) : .line,
                times: Array(time.times.prefix(records)), startTT2000: time.start,
                values: Array(values.prefix(records * bins)),
                fill: variable.attribute("FILLVAL").flatMap { doubles($0.values).first }))
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

/// Draws one ``Quicklook/Series`` as an SVG element.
struct PlotRenderer {
    let width = 800.0
    let height = 260.0
    let left = 70.0, right = 20.0, top = 28.0, bottom = 46.0

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    func svg(_ series: Quicklook.Series) -> HTML {
        switch series.shape {
        case .line: line(series)
        case .spectrogram(let bins): spectrogram(series, bins: bins)
        }
    }

    private func isValid(_ value: Double, fill: Double?) -> Bool {
        value.isFinite && value != fill && !(fill.map { abs($0) >= 1e30 && abs(value) >= 1e30 } ?? false)
    }

    /// Line plot; with more records than pixel columns, each column keeps its minimum and maximum so spikes stay visible.
    private func line(_ series: Quicklook.Series) -> HTML {
        var points: [(Double, Double)] = []
        points.reserveCapacity(series.times.count)
        for (index, time) in series.times.enumerated() {
            guard let time else { continue }
            let value = series.values[index]
            if isValid(value, fill: series.fill) { points.append((time, value)) }
        }
        guard let xRange = range(points.map(\.0)), let yRange = range(points.map(\.1)) else {
            return empty(series)
        }
        let columns = Int(plotWidth)
        var kept: [(Double, Double)] = points
        if points.count > columns * 2 {
            var buckets = [(min: (Double, Double)?, max: (Double, Double)?)](repeating: (nil, nil), count: columns)
            for point in points {
                let column = PlotMath.bucket(PlotMath.fraction(point.0, in: xRange), count: columns)
                if buckets[column].min.map({ point.1 < $0.1 }) ?? true { buckets[column].min = point }
                if buckets[column].max.map({ point.1 > $0.1 }) ?? true { buckets[column].max = point }
            }
            kept = buckets.flatMap { bucket -> [(Double, Double)] in
                guard let low = bucket.min, let high = bucket.max else { return [] }
                return low.0 <= high.0 ? [low, high] : [high, low]
            }
        }
        var path = ""
        path.reserveCapacity(kept.count * 14)
        for point in kept {
            path += format(x(point.0, xRange)) + "," + format(y(point.1, yRange)) + " "
        }
        let marker: HTML = kept.count == 1
            ? "<circle cx=\"\(format(x(kept[0].0, xRange)))\" cy=\"\(format(y(kept[0].1, yRange)))\" r=\"3\" fill=\"#0b3d91\"/>"
            : ""
        return frame(series, points: points.count, xRange: xRange, yRange: yRange, yLabel: label(series), content: """
            <polyline class="data" fill="none" stroke="#0b3d91" stroke-width="1" points="\(path)"/>\(marker)
            """)
    }

    /// Time along x, bin index along y, value as colour; fill values are left undrawn (white).
    private func spectrogram(_ series: Quicklook.Series, bins: Int) -> HTML {
        let columns = min(200, series.times.count)
        let rows = min(64, bins)
        guard let xRange = range(series.times.compactMap { $0 }) else { return empty(series) }
        /// Calls `body` with each valid value and the index of its cell.
        func forEachValidValue(_ body: (_ value: Double, _ cell: Int) -> Void) {
            for (record, time) in series.times.enumerated() {
                guard let time else { continue }
                let column = PlotMath.bucket(PlotMath.fraction(time, in: xRange), count: columns)
                for bin in 0..<bins where isValid(series.values[record * bins + bin], fill: series.fill) {
                    body(series.values[record * bins + bin], column * rows + min(rows - 1, bin * rows / bins))
                }
            }
        }
        // Cell means in two passes: count, then add each value divided by its cell's count, so that a sum of values
        // near the largest Double does not overflow (rounding can still pass it by an ulp: the means are clamped).
        var counts = [Int](repeating: 0, count: columns * rows)
        forEachValidValue { _, cell in counts[cell] += 1 }
        var means = [Double](repeating: 0, count: columns * rows)
        forEachValidValue { value, cell in means[cell] += value / Double(counts[cell]) }
        means = means.map { min(max($0, -.greatestFiniteMagnitude), .greatestFiniteMagnitude) }
        let points = counts.reduce(0, +)
        guard let valueRange = range(zip(means, counts).compactMap { $1 > 0 ? $0 : nil }) else { return empty(series) }
        let cellWidth = plotWidth / Double(columns), cellHeight = plotHeight / Double(rows)
        var rectangles = ""
        for column in 0..<columns {
            for row in 0..<rows where counts[column * rows + row] > 0 {
                let level = PlotMath.fraction(means[column * rows + row], in: valueRange)
                rectangles += "<rect class=\"cell\" x=\"\(format(left + Double(column) * cellWidth))\" y=\"\(format(top + plotHeight - Double(row + 1) * cellHeight))\" width=\"\(format(cellWidth + 0.5))\" height=\"\(format(cellHeight + 0.5))\" fill=\"\(color(level))\"/>"
            }
        }
        let colorScale: HTML = "<text x=\"\(format(width - right))\" y=\"\(format(top - 8))\" text-anchor=\"end\" font-size=\"11\">colour: \(label(series)) \(format(valueRange.lowerBound)) … \(format(valueRange.upperBound))</text>"
        return frame(series, points: points, xRange: xRange, yRange: 0...Double(bins), yLabel: "bin",
                     content: "\(HTML(trusted: rectangles))\(colorScale)")
    }

    private func label(_ series: Quicklook.Series) -> String {
        series.units.trimmingCharacters(in: .whitespaces).isEmpty ? series.name : "\(series.name) (\(series.units))"
    }

    private func empty(_ series: Quicklook.Series) -> HTML {
        "<p class=\"muted\">\(series.name): every value is fill.</p>"
    }

    private func frame(_ series: Quicklook.Series, points: Int, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>,
                       yLabel: String, content: HTML) -> HTML {
        var ticks = ""
        for step in 0...4 {
            let fraction = Double(step) / 4
            let instant = PlotMath.instant(series.startTT2000, plus: PlotMath.interpolate(fraction, in: xRange))
            let stamp = TT2000.utc(instant).iso8601(fractionDigits: 0)
            let clock = String(stamp.split(separator: "T").last ?? "")
            let xPosition = left + fraction * plotWidth
            ticks += "<line x1=\"\(format(xPosition))\" y1=\"\(format(top + plotHeight))\" x2=\"\(format(xPosition))\" y2=\"\(format(top + plotHeight + 4))\" stroke=\"#333\"/>"
            ticks += "<text x=\"\(format(xPosition))\" y=\"\(format(top + plotHeight + 16))\" text-anchor=\"middle\" font-size=\"10\">\(clock)</text>"
            let value = PlotMath.interpolate(fraction, in: yRange)
            let yPosition = top + plotHeight - fraction * plotHeight
            ticks += "<line x1=\"\(format(left - 4))\" y1=\"\(format(yPosition))\" x2=\"\(format(left))\" y2=\"\(format(yPosition))\" stroke=\"#333\"/>"
            ticks += "<text x=\"\(format(left - 6))\" y=\"\(format(yPosition + 3))\" text-anchor=\"end\" font-size=\"10\">\(format(value))</text>"
        }
        let day = TT2000.utc(PlotMath.instant(series.startTT2000, plus: xRange.lowerBound)).iso8601(fractionDigits: 0).prefix(10)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" class="plot" id="plot-\(series.name)" data-variable="\(series.name)" \
            data-points="\(points)" width="\(format(width))" height="\(format(height))" viewBox="0 0 \(format(width)) \(format(height))">
            <text x="\(format(left))" y="16" font-size="13" font-weight="600">\(series.title)</text>
            <rect x="\(format(left))" y="\(format(top))" width="\(format(plotWidth))" height="\(format(plotHeight))" fill="none" stroke="#333"/>
            \(content)
            \(HTML(trusted: ticks))
            <text x="\(format(left + plotWidth / 2))" y="\(format(height - 6))" text-anchor="middle" font-size="11">time (UTC, \(String(day)))</text>
            <text x="14" y="\(format(top + plotHeight / 2))" text-anchor="middle" font-size="11" transform="rotate(-90 14 \(format(top + plotHeight / 2)))">\(yLabel)</text>
            </svg>
            """
    }

    private func x(_ time: Double, _ range: ClosedRange<Double>) -> Double {
        left + PlotMath.fraction(time, in: range) * plotWidth
    }

    private func y(_ value: Double, _ range: ClosedRange<Double>) -> Double {
        top + plotHeight - PlotMath.fraction(value, in: range) * plotHeight
    }

    private func range(_ values: [Double]) -> ClosedRange<Double>? {
        guard var low = values.first else { return nil }
        var high = low
        for value in values {
            low = min(low, value)
            high = max(high, value)
        }
        return low...high
    }

    /// Numbers for SVG attributes and labels: at most 4 significant decimals, no exponent for ordinary magnitudes.
    private func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        if abs(value) >= 1e6 || abs(value) < 1e-3 { return String(format: "%.3g", value) }
        return String((value * 100).rounded() / 100)
    }

    /// A perceptual blue → yellow ramp (viridis end points and middle).
    private func color(_ level: Double) -> String {
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let position = max(0, min(1, level.isNaN ? 0 : level)) * Double(stops.count - 1)
        let index = min(stops.count - 2, Int(position))
        let t = position - Double(index)
        let (a, b) = (stops[index], stops[index + 1])
        func channel(_ p: Double, _ q: Double) -> Int { Int((p + (q - p) * t).rounded()) }
        return "rgb(\(channel(a.0, b.0)),\(channel(a.1, b.1)),\(channel(a.2, b.2)))"
    }
}

/// Plot arithmetic on values read from a file, in forms that cannot trap or overflow whatever the file holds: every
/// conversion from floating point is checked, every division has a non-zero divisor.
enum PlotMath {
    /// Where `value` lies between the ends of `range`: 0 at the lower end, 1 at the upper end, 0.5 when the range is a
    /// single value. Both ends are halved first, so that a range spanning more than `Double.greatestFiniteMagnitude`
    /// (from -1e308 to 1e308, say) does not overflow to infinity.
    static func fraction(_ value: Double, in range: ClosedRange<Double>) -> Double {
        let span = range.upperBound / 2 - range.lowerBound / 2
        guard span > 0 else { return 0.5 }
        return (value / 2 - range.lowerBound / 2) / span
    }

    /// The value a `fraction` of the way along `range`; a weighted sum, so that it cannot overflow either.
    static func interpolate(_ fraction: Double, in range: ClosedRange<Double>) -> Double {
        range.lowerBound * (1 - fraction) + range.upperBound * fraction
    }

    /// Which of `count` equal buckets a `fraction` from 0 to 1 falls in; values beyond either end (and NaN) go to the
    /// nearest end bucket.
    static func bucket(_ fraction: Double, count: Int) -> Int {
        let scaled = fraction * Double(count)
        guard scaled >= 0 else { return 0 }
        guard scaled < Double(count) else { return count - 1 }
        return Int(scaled)
    }

    /// Seconds from the TT2000 instant `start` to `instant`, exact to the nanosecond unless the difference overflows.
    static func seconds(from start: Int64, to instant: Int64) -> Double {
        let (difference, overflow) = instant.subtractingReportingOverflow(start)
        return (overflow ? Double(instant) - Double(start) : Double(difference)) / 1e9
    }

    /// The TT2000 instant `seconds` after `start`, saturating at the ends of `Int64`.
    static func instant(_ start: Int64, plus seconds: Double) -> Int64 {
        let nanoseconds = (seconds * 1e9).rounded()
        let offset: Int64
        if nanoseconds >= 0x1p63 {
            offset = .max
        } else if nanoseconds >= -0x1p63 {
            offset = Int64(nanoseconds)
        } else {
            offset = .min  // below the range, or NaN
        }
        let (sum, overflow) = start.addingReportingOverflow(offset)
        return overflow ? (offset > 0 ? .max : .min) : sum
    }
}

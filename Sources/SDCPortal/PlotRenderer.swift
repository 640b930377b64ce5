import Foundation
import SDCCDF

/// Draws ``Quicklook/Series`` as SVG: one plot per series, several stacked on one shared time axis, or two versions
/// of one series overlaid. Axes carry "nice" ticks (1, 2, 2.5, 5 × 10ⁿ; whole seconds, minutes and hours in time) with
/// labels that are never repeated; spectrograms carry a colour bar labelled with the variable's units.
struct PlotRenderer {
    let width = 800.0
    let panelHeight = 186.0
    let left = 78.0, right = 20.0, top = 28.0, bottom = 46.0
    /// Room a spectrogram's colour bar takes on the right.
    let colorBarRoom = 92.0
    /// Vertical room between stacked panels (for each panel's title).
    let gap = 26.0

    var height: Double { top + panelHeight + bottom }

    /// A panel's place in the figure.
    private struct Frame {
        var x: Double, y: Double, width: Double, height: Double
    }

    /// The time span a figure shows: seconds after `reference`.
    private struct TimeAxis {
        let reference: Int64
        let range: ClosedRange<Double>
    }

    // MARK: Figures

    /// One series in a figure of its own.
    func svg(_ series: Quicklook.Series) -> HTML {
        guard let axis = timeAxis([series]) else { return empty(series) }
        let frame = Frame(x: left, y: top, width: width - left - right - (isSpectrogram(series) ? colorBarRoom : 0), height: panelHeight)
        guard let panel = panel(series, frame: frame, axis: axis) else { return empty(series) }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" class="plot" id="plot-\(series.name)" data-variable="\(series.name)" \
            data-points="\(panel.points)" width="\(format(width))" height="\(format(height))" viewBox="0 0 \(format(width)) \(format(height))" \
            role="img" aria-label="\(series.title): \(label(series)) against time">
            <text x="\(format(left))" y="16" font-size="13" font-weight="600">\(series.title)</text>
            \(HTML(trusted: panel.content))
            \(HTML(trusted: timeTicks(axis, frame: frame, labelled: true)))
            </svg>
            """
    }

    /// Several series stacked on one shared time axis, tick labels under the lowest panel only.
    func stack(_ series: [Quicklook.Series]) -> HTML {
        guard let axis = timeAxis(series) else { return "<p class=\"muted\">Every chosen value is fill.</p>" }
        var content = ""
        var y = top
        var drawn: [String] = []
        let hasSpectrogram = series.contains(where: isSpectrogram)
        let plotWidth = width - left - right - (hasSpectrogram ? colorBarRoom : 0)
        var frames: [Frame] = []
        for (index, one) in series.enumerated() {
            let frame = Frame(x: left, y: y, width: plotWidth, height: panelHeight * 0.75)
            guard let panel = panel(one, frame: frame, axis: axis) else {
                content += "<text x=\"\(format(left))\" y=\"\(format(y - 8))\" font-size=\"12\">\(HTML.escape(one.name)): every value is fill</text>"
                continue
            }
            content += "<text x=\"\(format(left))\" y=\"\(format(y - 8))\" font-size=\"12\" font-weight=\"600\">\(HTML.escape(one.title))</text>"
            content += panel.content
            content += timeTicks(axis, frame: frame, labelled: index == series.count - 1)
            frames.append(frame)
            drawn.append(one.name)
            y += frame.height + gap
        }
        let last = frames.last ?? Frame(x: left, y: top, width: plotWidth, height: 0)
        let figureHeight = last.y + last.height + bottom
        if frames.last == nil { content += timeTicks(axis, frame: last, labelled: true) }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" class="plot stack" id="stack" data-variables="\(drawn.joined(separator: " "))" \
            width="\(format(width))" height="\(format(figureHeight))" viewBox="0 0 \(format(width)) \(format(figureHeight))" \
            role="img" aria-label="\(drawn.joined(separator: ", ")) on one time axis">
            \(HTML(trusted: content))
            </svg>
            """
    }

    /// Two versions of one line series overlaid: `first` solid, `second` dashed, with a legend.
    func compare(_ first: Quicklook.Series, _ second: Quicklook.Series, labels: (String, String)) -> HTML {
        guard let axis = timeAxis([first, second]) else { return empty(first) }
        let frame = Frame(x: left, y: top, width: width - left - right, height: panelHeight)
        let a = linePoints(first, axis: axis), b = linePoints(second, axis: axis)
        guard let yRange = valueRange((a + b).map(\.1)) else { return empty(first) }
        let content = polyline(a, frame: frame, axis: axis, yRange: yRange, style: "stroke=\"#0b3d91\"", className: "data first")
            + polyline(b, frame: frame, axis: axis, yRange: yRange, style: "stroke=\"#c2410c\" stroke-dasharray=\"4 3\"", className: "data second")
        let legend = """
            <line x1="\(format(width - right - 250))" y1="12" x2="\(format(width - right - 230))" y2="12" stroke="#0b3d91"/>\
            <text x="\(format(width - right - 226))" y="16" font-size="11">\(HTML.escape(labels.0))</text>\
            <line x1="\(format(width - right - 120))" y1="12" x2="\(format(width - right - 100))" y2="12" stroke="#c2410c" stroke-dasharray="4 3"/>\
            <text x="\(format(width - right - 96))" y="16" font-size="11">\(HTML.escape(labels.1))</text>
            """
        return """
            <svg xmlns="http://www.w3.org/2000/svg" class="plot compare" id="compare-\(first.name)" data-variable="\(first.name)" \
            data-points="\(a.count + b.count)" width="\(format(width))" height="\(format(height))" viewBox="0 0 \(format(width)) \(format(height))" \
            role="img" aria-label="\(first.title): two versions overlaid">
            <text x="\(format(left))" y="16" font-size="13" font-weight="600">\(first.title)</text>
            \(HTML(trusted: legend))
            \(HTML(trusted: frameRect(frame) + content + valueTicks(yRange, frame: frame, label: label(first))))
            \(HTML(trusted: timeTicks(axis, frame: frame, labelled: true)))
            </svg>
            """
    }

    // MARK: Panels

    private func isSpectrogram(_ series: Quicklook.Series) -> Bool {
        if case .spectrogram = series.shape { true } else { false }
    }

    /// The time axis spanning every valid time of `series`, relative to the earliest start.
    private func timeAxis(_ series: [Quicklook.Series]) -> TimeAxis? {
        guard let reference = series.map(\.startTT2000).min() else { return nil }
        var low = Double.infinity, high = -Double.infinity
        for one in series {
            let offset = PlotMath.seconds(from: reference, to: one.startTT2000)
            for time in one.times {
                guard let time else { continue }
                low = min(low, time + offset)
                high = max(high, time + offset)
            }
        }
        guard low <= high else { return nil }
        return TimeAxis(reference: reference, range: low...high)
    }

    private func panel(_ series: Quicklook.Series, frame: Frame, axis: TimeAxis) -> (content: String, points: Int)? {
        switch series.shape {
        case .line:
            let points = linePoints(series, axis: axis)
            guard let yRange = valueRange(points.map(\.1)) else { return nil }
            let content = frameRect(frame) + polyline(points, frame: frame, axis: axis, yRange: yRange, style: "stroke=\"#0b3d91\"", className: "data")
                + valueTicks(yRange, frame: frame, label: label(series))
            return (content, points.count)
        case .spectrogram(let bins):
            return spectrogram(series, bins: bins, frame: frame, axis: axis)
        }
    }

    /// The valid (time, value) points of a line series, times on `axis`.
    private func linePoints(_ series: Quicklook.Series, axis: TimeAxis) -> [(Double, Double)] {
        let offset = PlotMath.seconds(from: axis.reference, to: series.startTT2000)
        var points: [(Double, Double)] = []
        points.reserveCapacity(series.times.count)
        for (index, time) in series.times.enumerated() where index < series.values.count {
            guard let time else { continue }
            let value = series.values[index * series.binCount]
            if series.isValid(value) { points.append((time + offset, value)) }
        }
        return points
    }

    /// A polyline; with more points than pixel columns, each column keeps its minimum and maximum so spikes stay visible.
    private func polyline(_ points: [(Double, Double)], frame: Frame, axis: TimeAxis, yRange: ClosedRange<Double>, style: String,
                          className: String) -> String {
        guard !points.isEmpty else { return "" }
        let columns = max(1, Int(frame.width))
        var kept = points
        if points.count > columns * 2 {
            var buckets = [(min: (Double, Double)?, max: (Double, Double)?)](repeating: (nil, nil), count: columns)
            for point in points {
                let column = PlotMath.bucket(PlotMath.fraction(point.0, in: axis.range), count: columns)
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
            path += format(x(point.0, axis.range, frame)) + "," + format(y(point.1, yRange, frame)) + " "
        }
        let marker = kept.count == 1
            ? "<circle cx=\"\(format(x(kept[0].0, axis.range, frame)))\" cy=\"\(format(y(kept[0].1, yRange, frame)))\" r=\"3\" fill=\"#0b3d91\"/>"
            : ""
        return "<polyline class=\"\(className)\" fill=\"none\" \(style) stroke-width=\"1\" points=\"\(path)\"/>\(marker)"
    }

    /// Time along x, bin along y, cell mean as colour (log scale when every mean is positive and they span more than
    /// two decades); fill values are left undrawn. A colour bar on the right names the units.
    private func spectrogram(_ series: Quicklook.Series, bins: Int, frame: Frame, axis: TimeAxis) -> (content: String, points: Int)? {
        let offset = PlotMath.seconds(from: axis.reference, to: series.startTT2000)
        let columns = max(1, min(200, series.times.count))
        let rows = min(64, bins)
        func forEachValidValue(_ body: (_ value: Double, _ cell: Int) -> Void) {
            for (record, time) in series.times.enumerated() {
                guard let time else { continue }
                let column = PlotMath.bucket(PlotMath.fraction(time + offset, in: axis.range), count: columns)
                for bin in 0..<bins where series.isValid(series.values[record * bins + bin]) {
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
        let filled = zip(means, counts).compactMap { $1 > 0 ? $0 : nil }
        guard let valueRange = valueRange(filled) else { return nil }
        let logarithmic = valueRange.lowerBound > 0 && valueRange.upperBound / valueRange.lowerBound > 100
        let scale: (Double) -> Double = logarithmic
            ? { PlotMath.fraction(log10($0), in: log10(valueRange.lowerBound)...log10(valueRange.upperBound)) }
            : { PlotMath.fraction($0, in: valueRange) }
        let cellWidth = frame.width / Double(columns), cellHeight = frame.height / Double(rows)
        var content = ""
        for column in 0..<columns {
            for row in 0..<rows where counts[column * rows + row] > 0 {
                content += "<rect class=\"cell\" x=\"\(format(frame.x + Double(column) * cellWidth))\" y=\"\(format(frame.y + frame.height - Double(row + 1) * cellHeight))\" width=\"\(format(cellWidth + 0.5))\" height=\"\(format(cellHeight + 0.5))\" fill=\"\(color(scale(means[column * rows + row])))\"/>"
            }
        }
        content += frameRect(frame)
        // The y axis: DEPEND_1's values at a few bins when it has them, else bin numbers.
        if let binAxis = series.binAxis {
            var ticks = ""
            let picks = Array(Set([0, bins / 2, bins - 1])).sorted()
            for bin in picks {
                let yPosition = frame.y + frame.height - (Double(bin) + 0.5) / Double(bins) * frame.height
                ticks += tick(yAt: yPosition, frame: frame, label: format(binAxis.values[bin]))
            }
            content += ticks + axisLabel(binAxis.units.isEmpty ? binAxis.name : "\(binAxis.name) (\(binAxis.units))", frame: frame)
        } else {
            content += valueTicks(0...Double(bins), frame: frame, label: "bin")
        }
        content += colorBar(valueRange, logarithmic: logarithmic, units: series.units.isEmpty ? series.name : series.units, id: "ramp-\(series.name)",
                            frame: Frame(x: frame.x + frame.width + 14, y: frame.y, width: 12, height: frame.height))
        return (content, points)
    }

    private func colorBar(_ range: ClosedRange<Double>, logarithmic: Bool, units: String, id: String, frame: Frame) -> String {
        let id = HTML.escape(id)
        var stops = ""
        for step in 0...4 {
            let level = Double(step) / 4
            stops += "<stop offset=\"\(format(level))\" stop-color=\"\(color(level))\"/>"
        }
        let low = logarithmic ? "1e\(format(log10(range.lowerBound)))" : format(range.lowerBound)
        let high = logarithmic ? "1e\(format(log10(range.upperBound)))" : format(range.upperBound)
        let labelX = frame.x + frame.width + 4
        let title = logarithmic ? "\(units), log scale" : units
        return """
            <g class="colorbar" aria-label="colour scale \(HTML.escape(low)) to \(HTML.escape(high)) \(HTML.escape(units))">\
            <defs><linearGradient id="\(id)" x1="0" y1="1" x2="0" y2="0">\(stops)</linearGradient></defs>\
            <rect x="\(format(frame.x))" y="\(format(frame.y))" width="\(format(frame.width))" height="\(format(frame.height))" fill="url(#\(id))" stroke="#333"/>\
            <text x="\(format(labelX))" y="\(format(frame.y + 8))" font-size="10">\(HTML.escape(high))</text>\
            <text x="\(format(labelX))" y="\(format(frame.y + frame.height))" font-size="10">\(HTML.escape(low))</text>\
            <text class="colorbar-units" x="\(format(labelX + 44))" y="\(format(frame.y + frame.height / 2))" font-size="10" text-anchor="middle" \
            transform="rotate(90 \(format(labelX + 44)) \(format(frame.y + frame.height / 2)))">\(HTML.escape(title))</text></g>
            """
    }

    // MARK: Axes

    private func frameRect(_ frame: Frame) -> String {
        "<rect x=\"\(format(frame.x))\" y=\"\(format(frame.y))\" width=\"\(format(frame.width))\" height=\"\(format(frame.height))\" fill=\"none\" stroke=\"#333\"/>"
    }

    private func tick(yAt yPosition: Double, frame: Frame, label: String) -> String {
        "<line x1=\"\(format(frame.x - 4))\" y1=\"\(format(yPosition))\" x2=\"\(format(frame.x))\" y2=\"\(format(yPosition))\" stroke=\"#333\"/>"
            + "<text class=\"ytick\" x=\"\(format(frame.x - 6))\" y=\"\(format(yPosition + 3))\" text-anchor=\"end\" font-size=\"10\">\(HTML.escape(label))</text>"
    }

    private func axisLabel(_ text: String, frame: Frame) -> String {
        let middle = format(frame.y + frame.height / 2)
        return "<text x=\"14\" y=\"\(middle)\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 14 \(middle))\">\(HTML.escape(text))</text>"
    }

    private func valueTicks(_ range: ClosedRange<Double>, frame: Frame, label: String) -> String {
        let ticks = AxisTicks.values(range)
        var text = ""
        for (value, tickLabel) in zip(ticks.values, ticks.labels) {
            text += tick(yAt: y(value, range, frame), frame: frame, label: tickLabel)
        }
        return text + axisLabel(label, frame: frame)
    }

    private func timeTicks(_ axis: TimeAxis, frame: Frame, labelled: Bool) -> String {
        let start = PlotMath.instant(axis.reference, plus: axis.range.lowerBound)
        let ticks = AxisTicks.times(start: start, span: axis.range.upperBound - axis.range.lowerBound)
        var text = ""
        let baseline = frame.y + frame.height
        for tick in ticks {
            let xPosition = x(axis.range.lowerBound + tick.offset, axis.range, frame)
            text += "<line x1=\"\(format(xPosition))\" y1=\"\(format(baseline))\" x2=\"\(format(xPosition))\" y2=\"\(format(baseline + 4))\" stroke=\"#333\"/>"
            if labelled {
                text += "<text class=\"xtick\" x=\"\(format(xPosition))\" y=\"\(format(baseline + 16))\" text-anchor=\"middle\" font-size=\"10\">\(tick.label)</text>"
            }
        }
        if labelled {
            let day = TT2000.utc(start).iso8601(fractionDigits: 0).prefix(10)
            text += "<text x=\"\(format(frame.x + frame.width / 2))\" y=\"\(format(baseline + 38))\" text-anchor=\"middle\" font-size=\"11\">time (UTC, \(day))</text>"
        }
        return text
    }

    private func label(_ series: Quicklook.Series) -> String {
        series.units.isEmpty ? series.name : "\(series.name) (\(series.units))"
    }

    private func empty(_ series: Quicklook.Series) -> HTML {
        "<p class=\"muted\">\(series.name): every value is fill.</p>"
    }

    private func x(_ time: Double, _ range: ClosedRange<Double>, _ frame: Frame) -> Double {
        frame.x + min(1, max(0, PlotMath.fraction(time, in: range))) * frame.width
    }

    private func y(_ value: Double, _ range: ClosedRange<Double>, _ frame: Frame) -> Double {
        frame.y + frame.height - min(1, max(0, PlotMath.fraction(value, in: range))) * frame.height
    }

    /// The span of `values`; a single value gets a span around it, so that it sits mid-axis with ticks either side.
    private func valueRange(_ values: [Double]) -> ClosedRange<Double>? {
        guard var low = values.first else { return nil }
        var high = low
        for value in values {
            low = min(low, value)
            high = max(high, value)
        }
        guard low == high else { return low...high }
        let pad = low == 0 ? 1 : abs(low) / 10
        return (low - pad)...(high + pad)
    }

    /// Numbers for SVG attributes and labels: at most 4 significant decimals, no exponent for ordinary magnitudes.
    func format(_ value: Double) -> String {
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

/// Axis ticks people can read: values at 1, 2, 2.5 or 5 × 10ⁿ with labels distinct from one another, and times at
/// whole seconds, minutes, hours or days.
enum AxisTicks {
    /// About `target` ticks inside `range`, and their labels (each different).
    static func values(_ range: ClosedRange<Double>, target: Int = 5) -> (values: [Double], labels: [String]) {
        let span = range.upperBound / 2 - range.lowerBound / 2
        var ticks: [Double] = []
        var step = 0.0
        if span > 0, span.isFinite {
            let rough = span / Double(target) * 2
            let base = pow(10, (log10(rough)).rounded(.down))
            if rough.isFinite, base.isFinite, base > 0 {
                let fraction = rough / base
                step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10) * base
                let first = (range.lowerBound / step).rounded(.up)
                if step.isFinite, step > 0, first.isFinite {
                    var index = 0.0
                    while ticks.count <= 2 * target {
                        let value = (first + index) * step
                        guard value.isFinite, value - range.upperBound <= step * 1e-9 else { break }
                        ticks.append(value == 0 ? 0 : value)
                        index += 1
                    }
                }
            }
        }
        if ticks.count < 2 {
            // No usable step (a span beyond Double's range, or denormal): the ends and the middle.
            ticks = Array(Set([range.lowerBound, PlotMath.interpolate(0.5, in: range), range.upperBound])).sorted()
            step = 0
        }
        return (ticks, labels(ticks, step: step))
    }

    /// Labels with as many digits as the step needs, more if two would still read the same.
    static func labels(_ values: [Double], step: Double) -> [String] {
        let largest = values.map(abs).max() ?? 0
        if step > 0, largest < 1e7, step >= 1e-5 {
            let decimals = max(0, Int((-log10(step)).rounded(.up)) + (step / pow(10, log10(step).rounded(.down)) == 2.5 ? 1 : 0))
            let fixed = values.map { String(format: "%.\(decimals)f", $0 == 0 ? 0 : $0) }
            if Set(fixed).count == fixed.count { return fixed }
        }
        for digits in 3...17 {
            let general = values.map { String(format: "%.\(digits)g", $0 == 0 ? 0 : $0) }
            if Set(general).count == general.count { return general }
        }
        return values.map { "\($0)" }
    }

    /// Candidate steps of a time axis, in seconds.
    static let timeSteps: [Double] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900,
                                      1800, 3600, 7200, 10800, 21600, 43200, 86400, 172_800, 604_800, 2_592_000, 31_557_600]

    /// Ticks of a time axis starting at the TT2000 instant `start` and `span` seconds long: offsets from the start, at
    /// whole multiples of the step in the UTC day, labelled `HH:MM:SS` (with the date when the span passes a day, with
    /// milliseconds under a second).
    static func times(start: Int64, span: Double) -> [(offset: Double, label: String)] {
        let first = TT2000.utc(start)
        guard span.isFinite, span > 0 else { return [(0, label(first, step: 1, span: 0))] }
        let step = timeSteps.first { span / $0 <= 6 } ?? (span / 5)
        let secondOfDay = Double(first.hour * 3600 + first.minute * 60 + first.second) + Double(first.nanosecond) / 1e9
        var offset = ((secondOfDay / step).rounded(.up) * step) - secondOfDay
        var ticks: [(Double, String)] = []
        while offset <= span * (1 + 1e-12), ticks.count < 12 {
            ticks.append((offset, label(TT2000.utc(PlotMath.instant(start, plus: offset)), step: step, span: span)))
            offset += step
        }
        return ticks
    }

    private static func label(_ time: CDFDateTime, step: Double, span: Double) -> String {
        let clock = step < 1
            ? String(format: "%02d:%02d:%02d.%03d", time.hour, time.minute, time.second, time.nanosecond / 1_000_000)
            : String(format: "%02d:%02d:%02d", time.hour, time.minute, time.second)
        guard span >= 86400 else { return clock }
        let day = String(format: "%02d-%02d", time.month, time.day)
        return step >= 86400 ? day : "\(day) \(clock.prefix(5))"
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

import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether downloads and uploads draw a progress bar.
public enum ProgressDisplay: Sendable, Hashable {
    /// Never.
    case hidden
    /// On standard error, when standard error is a terminal.
    case terminal

    /// Whether a bar is drawn in this process.
    var isVisible: Bool {
        switch self {
        case .hidden: false
        case .terminal: isatty(STDERR_FILENO) == 1
        }
    }
}

/// One line of a progress bar: `name  42% [========>           ] 12.3 MiB / 29.2 MiB  4.1 MiB/s`.
public enum ProgressLine {
    static let barWidth = 24
    static let labelWidth = 40

    /// The line for `completed` of `total` bytes (total nil when the size is unknown) after `elapsed`.
    public static func render(label: String, completed: Int64, total: Int64?, elapsed: Duration) -> String {
        var shortLabel = label
        if shortLabel.count > labelWidth { shortLabel = String(shortLabel.prefix(labelWidth - 1)) + "…" }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let rate = seconds > 0 ? Int64(Double(completed) / seconds) : 0
        guard let total, total > 0 else {
            return "\(shortLabel) \(byteCount(completed)) \(byteCount(rate))/s"
        }
        let fraction = min(1, Double(completed) / Double(total))
        let filled = Int(fraction * Double(barWidth))
        let bar = String(repeating: "=", count: filled) + (filled < barWidth ? ">" : "")
            + String(repeating: " ", count: max(0, barWidth - filled - 1))
        let percent = String(Int(fraction * 100))
        return "\(shortLabel) \(String(repeating: " ", count: 3 - percent.count))\(percent)% [\(bar)] "
            + "\(byteCount(completed)) / \(byteCount(total)) \(byteCount(rate))/s"
    }

    /// `512 B`, `1.5 KiB`, `12.3 MiB`, `2.0 GiB`.
    public static func byteCount(_ bytes: Int64) -> String {
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        for unit in ["KiB", "MiB", "GiB"] {
            if value < 1024 { return oneDecimal(value) + " " + unit }
            value /= 1024
        }
        return oneDecimal(value) + " TiB"
    }

    private static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// A progress bar redrawn on standard error at most ten times a second.
final class ProgressBar: Sendable {
    private struct State {
        var completed: Int64 = 0
        var lastDrawn: ContinuousClock.Instant?
    }

    private let label: String
    private let total: Int64?
    private let started = ContinuousClock.now
    private let state = NIOLockedValueBox(State())

    init(label: String, total: Int64?) {
        self.label = label
        self.total = total
    }

    /// Creates a bar when `display` is visible in this process.
    static func make(_ display: ProgressDisplay, label: String, total: Int64?) -> ProgressBar? {
        display.isVisible ? ProgressBar(label: label, total: total) : nil
    }

    func advance(by bytes: Int) {
        let now = ContinuousClock.now
        let line: String? = state.withLockedValue { state in
            state.completed += Int64(bytes)
            if let last = state.lastDrawn, now - last < .milliseconds(100) { return nil }
            state.lastDrawn = now
            return ProgressLine.render(label: label, completed: state.completed, total: total, elapsed: now - started)
        }
        if let line { draw("\r" + line + "\u{1B}[K") }
    }

    /// Draws the final state and ends the line.
    func finish() {
        let completed = state.withLockedValue { $0.completed }
        let line = ProgressLine.render(label: label, completed: completed, total: total, elapsed: .now - started)
        draw("\r" + line + "\u{1B}[K\n")
    }

    /// Restarts the count after a retried transfer.
    func reset() {
        state.withLockedValue { $0 = State() }
    }

    private func draw(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(STDERR_FILENO, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

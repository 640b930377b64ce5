/// The quantities operators type on the command line: durations (`30d`, `12h`, `90s`) and rates (`50MB/s`).
public enum Quantities {
    /// Parses `N[s|m|h|d|w]` (a plain number is seconds) into a duration of at least one second.
    public static func duration(_ text: String) throws(IntegrityError) -> Duration {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let multiplier = units[last] {
            digits = digits.dropLast()
            unit = multiplier
        }
        guard let value = Int64(digits), value > 0 else {
            throw IntegrityError("'\(text)' is not a duration: write a positive whole number and s, m, h, d or w (30d, 12h)")
        }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow else { throw IntegrityError("'\(text)' is too long a duration") }
        return .seconds(seconds)
    }

    /// Parses a rate in bytes per second: `N[B|kB|MB|GB|KiB|MiB|GiB][/s]` (decimal units are powers of 1,000, binary
    /// ones of 1,024; a plain number is bytes), more than 0.
    public static func bytesPerSecond(_ text: String) throws(IntegrityError) -> Double {
        var body = Substring(text)
        if body.hasSuffix("/s") { body = body.dropLast(2) }
        let units: [(String, Double)] = [("KiB", 1_024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("kB", 1e3), ("KB", 1e3),
                                          ("MB", 1e6), ("GB", 1e9), ("B", 1)]
        var multiplier = 1.0
        for (suffix, value) in units where body.hasSuffix(suffix) {
            body = body.dropLast(suffix.count)
            multiplier = value
            break
        }
        guard let number = Double(body), number.isFinite, number > 0 else {
            throw IntegrityError("'\(text)' is not a rate: write a positive number of bytes per second with an optional unit (50MB/s, 1GiB/s)")
        }
        return number * multiplier
    }
}

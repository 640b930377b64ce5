/// The instruments of the IMAP mission, as they appear in file names (case-sensitive).
public enum Instrument: String, CaseIterable, Sendable, Codable, Comparable {
    case codice, glows, hi, hit, ialirt, idex, l1const, lo, mag, spacecraft, swapi, swe, ultra

    /// Instruments whose products are made per spacecraft pointing rather than per day.
    public var isRepointDependent: Bool {
        switch self {
        case .glows, .hi, .lo, .ultra: true
        default: false
        }
    }

    public static func < (lhs: Instrument, rhs: Instrument) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The processing levels a science file name can carry (case-sensitive).
public enum DataLevel: String, CaseIterable, Sendable, Codable, Comparable {
    case l0, l1, l1a, l1b, l1c, l1ca, l1cb, l1d, l2, l2a, l2b, l2c, l3, l3a, l3b, l3c, l3d, l3e

    public static func < (lhs: DataLevel, rhs: DataLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension CaseIterable where Self: RawRepresentable, Self.RawValue == String {
    /// The raw values joined for error messages: `l0, l1, l1a, ...`.
    static var choicesDescription: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

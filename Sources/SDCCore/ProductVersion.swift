/// A product version: `vMMM.mmmm` (major and minor) or the legacy minor-only `vXXX`.
///
/// Ordering follows imap-data-access: any version without a major sorts below any version with one.
public struct ProductVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 0...999, or nil for a legacy `vXXX` version.
    public let major: Int?
    /// 0...9999 (0...999 for legacy versions).
    public let minor: Int

    public init(major: Int?, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `vMMM.mmmm` or `vXXX` exactly (three-digit major, four-digit minor, lower-case `v`).
    public init?<S: StringProtocol>(_ text: S) {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "v"), let major = ASCII.integer(bytes[1..<min(4, bytes.count)]), bytes.count >= 4 else { return nil }
        if bytes.count == 4 {
            self.init(major: nil, minor: major)
        } else if bytes.count == 9, bytes[4] == UInt8(ascii: "."), let minor = ASCII.integer(bytes[5...]) {
            self.init(major: major, minor: minor)
        } else {
            return nil
        }
    }

    /// `vMMM.mmmm`, or `vXXX` for a legacy version.
    public var description: String {
        if let major { "v" + pad(major, 3) + "." + pad(minor, 4) } else { "v" + pad(minor, 3) }
    }

    /// `MMM.mmmm` as written into CDF `Data_version` attributes, or `XXX` for a legacy version.
    public var dataVersion: String { String(description.dropFirst()) }

    public static func < (lhs: ProductVersion, rhs: ProductVersion) -> Bool {
        switch (lhs.major, rhs.major) {
        case (nil, nil): lhs.minor < rhs.minor
        case (nil, _): true
        case (_, nil): false
        case let (l?, r?): (l, lhs.minor) < (r, rhs.minor)
        }
    }
}

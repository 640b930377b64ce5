import SDCCore

/// What is wrong with one object.
public enum IntegrityProblem: String, Sendable, Hashable, CaseIterable, Comparable {
    /// The stored bytes differ from the catalog's size or SHA-256 (a flipped bit, a truncated file).
    case corrupt
    /// The catalog has a row for the key but the store has no object.
    case missing
    /// The store has an object that no catalog row (and no upload in flight) accounts for.
    case orphaned
    /// The object could not be read (an I/O or network error): neither proven good nor bad.
    case unreadable

    public static func < (lhs: IntegrityProblem, rhs: IntegrityProblem) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One problem found by ``Verifier``.
public struct IntegrityFinding: Sendable, Hashable {
    /// The storage key (or, for an orphan, the name the store lists).
    public var key: String
    public var problem: IntegrityProblem
    /// What differs, in words (sizes and digests).
    public var detail: String

    /// A finding about `key`.
    public init(key: String, problem: IntegrityProblem, detail: String) {
        self.key = key
        self.problem = problem
        self.detail = detail
    }
}

/// Which part of the store a verification covers.
public struct VerificationScope: Sendable, Equatable {
    /// The instruments whose files are checked; nil for every file (SPICE kernels and orphans anywhere included).
    public var instruments: [Instrument]?

    /// Every cataloged file and every stored object.
    public static let all = VerificationScope(instruments: nil)

    /// The files of `instruments` (science, quicklook, dependency, ancillary and release files), and the objects
    /// stored under their science folders `imap/<instrument>/`.
    public static func instruments(_ instruments: [Instrument]) -> VerificationScope { VerificationScope(instruments: instruments) }

    /// The store prefixes listed for orphans.
    var listingPrefixes: [String] {
        guard let instruments else { return [""] }
        return instruments.map { "imap/\($0.rawValue)/" }
    }
}

/// How far a verification has got.
public struct VerificationProgress: Sendable, Equatable {
    /// Cataloged objects read so far.
    public var objectsChecked = 0
    /// Bytes read so far.
    public var bytesChecked: Int64 = 0
    /// The catalog's total bytes in scope when the run started (an estimate: files may arrive meanwhile); 0 if unknown.
    public var bytesExpected: Int64 = 0
    /// Store objects listed (in the orphan search).
    public var objectsListed = 0
    /// Problems found so far.
    public var problems = 0

    public init() {}

    /// `bytesChecked / bytesExpected` in 0...1 (1 when nothing is expected).
    public var fraction: Double {
        bytesExpected > 0 ? min(1, Double(bytesChecked) / Double(bytesExpected)) : 1
    }
}

/// The outcome of one verification run or scrub pass.
public struct VerificationReport: Sendable, Equatable {
    public var scope: VerificationScope
    public var startedAt: UTCTime
    public var finishedAt: UTCTime
    /// Cataloged objects read and compared.
    public var objectsChecked: Int
    /// Bytes read.
    public var bytesChecked: Int64
    /// Store objects listed in the orphan search (0 when it was not run).
    public var objectsListed: Int
    /// Problems, ordered by kind then key.
    public var findings: [IntegrityFinding]

    /// Number of findings of each kind (every kind present, zero included).
    public var counts: [IntegrityProblem: Int] {
        var counts = Dictionary(uniqueKeysWithValues: IntegrityProblem.allCases.map { ($0, 0) })
        for finding in findings { counts[finding.problem, default: 0] += 1 }
        return counts
    }

    /// Whether nothing is wrong.
    public var isClean: Bool { findings.isEmpty }
}

/// Why a verification or a scrub could not run to its end.
public struct IntegrityError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}

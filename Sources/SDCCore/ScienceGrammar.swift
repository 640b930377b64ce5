/// The science-shaped grammar shared by science, quicklook and dependency names
/// (`file_validation.py:558-568` in imap-data-access 1.3.0):
///
///     ^imap_([^_]+)_([^_]+)_([^_]+)_(\d{8})(-(repoint|cr)(\d{5}))?_(v\d{3}\.\d{4}|v\d{3})\.([^.]+)$
enum ScienceGrammar {
    static let extensions: [(FileClass, Set<String>)] = [
        (.science, ["cdf", "pkts"]), (.quicklook, ["jpg", "pdf", "png"]), (.dependency, ["json"]),
    ]

    static func fileClass(forExtension ext: String) -> FileClass? {
        extensions.first { $0.1.contains(ext) }?.0
    }

    /// The raw parts of a name that has the science shape.
    struct Shape {
        var instrument: Substring
        var level: Substring
        var descriptor: Substring
        var date: Substring
        var intervalKind: Substring?
        var interval: Int?
        var version: ProductVersion
        var fileExtension: Substring
    }

    /// Matches the regular expression above without a regex engine (the `[^_]+` groups make it deterministic).
    static func shape(of name: String) -> Shape? {
        let parts = name.split(separator: "_", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "imap", !parts[1].isEmpty, !parts[2].isEmpty, !parts[3].isEmpty,
              let (date, kind, interval) = splitDate(parts[4]),
              let (version, ext) = splitVersion(parts[5]) else { return nil }
        return Shape(instrument: parts[1], level: parts[2], descriptor: parts[3], date: date,
                     intervalKind: kind, interval: interval, version: version, fileExtension: ext)
    }

    /// `\d{8}(-(repoint|cr)\d{5})?` exactly.
    private static func splitDate(_ part: Substring) -> (Substring, Substring?, Int?)? {
        let date = part.prefix(8)
        guard ASCII.isDigits(date, count: 8) else { return nil }
        let rest = part.dropFirst(8)
        if rest.isEmpty { return (date, nil, nil) }
        for kind in ["-repoint", "-cr"] where rest.hasPrefix(kind) {
            let digits = rest.dropFirst(kind.count)
            guard ASCII.isDigits(digits, count: 5) else { return nil }
            return (date, kind.dropFirst(), Int(digits))
        }
        return nil
    }

    /// `(v\d{3}\.\d{4}|v\d{3})\.([^.]+)$` with the regex's backtracking: `v001.0002` alone is version `v001`
    /// with extension `0002`.
    private static func splitVersion(_ part: Substring) -> (ProductVersion, Substring)? {
        guard part.hasPrefix("v"), ASCII.isDigits(part.dropFirst().prefix(3), count: 3) else { return nil }
        let afterMajor = part.dropFirst(4)
        let digits = part.dropFirst().prefix(3)
        if afterMajor.hasPrefix("."), ASCII.isDigits(afterMajor.dropFirst().prefix(4), count: 4) {
            let afterMinor = afterMajor.dropFirst(5)
            if afterMinor.hasPrefix("."), isExtension(afterMinor.dropFirst()) {
                return (ProductVersion(major: Int(digits)!, minor: Int(afterMajor.dropFirst().prefix(4))!), afterMinor.dropFirst())
            }
        }
        guard afterMajor.hasPrefix("."), isExtension(afterMajor.dropFirst()) else { return nil }
        return (ProductVersion(major: nil, minor: Int(digits)!), afterMajor.dropFirst())
    }

    private static func isExtension(_ text: Substring) -> Bool { !text.isEmpty && !text.contains(".") }

    /// Parses and validates a science-shaped name whose extension belongs to one of the three classes.
    static func parse(_ name: String) -> Result<ScienceFileName, ClassFailure> {
        guard let shape = shape(of: name) else {
            return .failure(ClassFailure(confidence: .shape, error: NamingError(name: name, message: "not science-shaped")))
        }
        do {
            return .success(try validate(shape, name: name))
        } catch {
            return .failure(ClassFailure(confidence: .content, error: error))
        }
    }

    private static func validate(_ shape: Shape, name: String) throws(NamingError) -> ScienceFileName {
        guard let instrument = Instrument(rawValue: String(shape.instrument)) else {
            throw .invalid("instrument", shape.instrument, in: name, expected: "one of \(Instrument.choicesDescription)")
        }
        guard let level = DataLevel(rawValue: String(shape.level)) else {
            throw .invalid("data level", shape.level, in: name, expected: "one of \(DataLevel.choicesDescription)")
        }
        guard let date = FileDate(yyyymmdd: shape.date) else {
            throw .invalid("start date", shape.date, in: name, expected: "a real calendar date YYYYMMDD")
        }
        let ext = String(shape.fileExtension)
        guard fileClass(forExtension: ext) != nil else {
            throw .invalid("extension", ext, in: name,
                           expected: "cdf or pkts (science), jpg, pdf or png (quicklook), json (dependency)")
        }
        return ScienceFileName(
            instrument: instrument, dataLevel: level, descriptor: String(shape.descriptor), startDate: date,
            repointing: shape.intervalKind == "repoint" ? shape.interval : nil,
            carringtonRotation: shape.intervalKind == "cr" ? shape.interval : nil,
            version: shape.version, fileExtension: ext)
    }

    /// Explains why an `imap_...` name that matches no class is not a science name, part by part.
    static func diagnose(_ name: String) -> NamingError? {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].lowercased() == "imap" else { return nil }
        if parts[0] != "imap" { return .invalid("mission", parts[0], in: name, expected: "'imap' (lower case)") }
        if Instrument(rawValue: String(parts[1])) == nil {
            return .invalid("instrument", parts[1], in: name, expected: "one of \(Instrument.choicesDescription)")
        }
        let layout = "imap_<instrument>_<level>_<descriptor>_<YYYYMMDD>[-repointNNNNN|-crNNNNN]_<vMMM.mmmm>.<extension>"
        guard parts.count >= 6 else {
            return NamingError(name: name, message: "\(name) has \(parts.count) '_'-separated parts: expected the science layout \(layout) or the ancillary layout imap_<instrument>_<descriptor>_<YYYYMMDD>[_<YYYYMMDD>]_<vXXX>.<extension>")
        }
        if DataLevel(rawValue: String(parts[2])) == nil {
            return .invalid("data level", parts[2], in: name, expected: "one of \(DataLevel.choicesDescription)")
        }
        if parts[3].isEmpty { return .invalid("descriptor", "", in: name, expected: "a non-empty descriptor without '_'") }
        if parts.count > 6, splitDate(parts[4]) == nil {
            return .invalid("descriptor", parts[3...4].joined(separator: "_"), in: name, expected: "a descriptor without '_'")
        }
        if splitDate(parts[4]) == nil {
            return .invalid("start date", parts[4], in: name, expected: "YYYYMMDD, optionally followed by -repointNNNNN or -crNNNNN")
        }
        let tail = parts[5...].joined(separator: "_")
        if splitVersion(Substring(tail)) == nil {
            return .invalid("version and extension", tail, in: name, expected: "vMMM.mmmm.<extension> (or legacy vXXX.<extension>)")
        }
        return nil
    }
}

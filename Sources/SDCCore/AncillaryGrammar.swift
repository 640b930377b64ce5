/// The ancillary and release-manifest grammar (`file_validation.py:1280-1292`):
///
///     ^imap_([^_]+)_([^_]+)_(\d{8})(?:_(\d{8})|-repoint(\d{5}))?_(v\d{3})\.(EXTS)$
///
/// where `EXTS` is the class's extensions plus `jpg|pdf|png` (which the regex admits and validation rejects).
enum AncillaryGrammar {
    static let ancillaryExtensions: Set<String> = ["cdf", "csv", "dat", "json", "zip", "tsv", "pgm", "xlsx"]
    static let releaseExtensions: Set<String> = ["txt"]
    private static let imageExtensions: Set<String> = ["jpg", "pdf", "png"]

    static func parse(_ name: String, release: Bool) -> Result<AncillaryFileName, ClassFailure> {
        let classExtensions = release ? releaseExtensions : ancillaryExtensions
        let shapeFailure = ClassFailure(confidence: .shape, error: NamingError(name: name, message: "not ancillary-shaped"))
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 5 || parts.count == 6, parts[0] == "imap", !parts[1].isEmpty, !parts[2].isEmpty else {
            return .failure(shapeFailure)
        }
        // Start date, then an optional end date or repointing.
        let dateField = parts[3]
        var repointing: Int?
        guard ASCII.isDigits(dateField.prefix(8), count: 8) else { return .failure(shapeFailure) }
        let afterDate = dateField.dropFirst(8)
        if !afterDate.isEmpty {
            guard parts.count == 5, afterDate.hasPrefix("-repoint"), ASCII.isDigits(afterDate.dropFirst(8), count: 5) else {
                return .failure(shapeFailure)
            }
            repointing = Int(afterDate.dropFirst(8))
        }
        let endField: Substring? = parts.count == 6 ? parts[4] : nil
        if let endField, !ASCII.isDigits(endField, count: 8) { return .failure(shapeFailure) }
        // vXXX.<extension>
        let last = parts[parts.count - 1]
        let ext = String(last.dropFirst(5))
        guard last.hasPrefix("v"), ASCII.isDigits(last.dropFirst().prefix(3), count: 3), last.dropFirst(4).hasPrefix("."),
              classExtensions.contains(ext) || imageExtensions.contains(ext) else { return .failure(shapeFailure) }

        func content(_ error: NamingError) -> Result<AncillaryFileName, ClassFailure> {
            .failure(ClassFailure(confidence: .content, error: error))
        }
        guard let instrument = Instrument(rawValue: String(parts[1])) else {
            return content(.invalid("instrument", parts[1], in: name, expected: "one of \(Instrument.choicesDescription)"))
        }
        guard classExtensions.contains(ext) else {
            let choices = classExtensions.sorted().joined(separator: ", ")
            return content(.invalid("extension", ext, in: name, expected: "one of \(choices) for \(release ? "release" : "ancillary") files"))
        }
        guard let start = FileDate(yyyymmdd: dateField.prefix(8)) else {
            return content(.invalid("start date", dateField.prefix(8), in: name, expected: "a real calendar date YYYYMMDD"))
        }
        var end: FileDate?
        if let endField {
            guard let date = FileDate(yyyymmdd: endField) else {
                return content(.invalid("end date", endField, in: name, expected: "a real calendar date YYYYMMDD"))
            }
            end = date
        }
        return .success(AncillaryFileName(
            instrument: instrument, descriptor: String(parts[2]), startDate: start, endDate: end, repointing: repointing,
            version: ProductVersion(major: nil, minor: Int(last.dropFirst().prefix(3))!), fileExtension: ext))
    }
}

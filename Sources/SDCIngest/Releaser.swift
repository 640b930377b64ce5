import NIOCore
import SDCCatalog
import SDCCore
import SDCStorage

/// Applies release manifests: flips the `released` flag that decides what anonymous users see.
///
/// A manifest is an uploaded release-class file (`imap_<instrument>_<descriptor>_<start>_<end>_vXXX.txt`) listing
/// file names, one per line (`#` comments and blank lines ignored). The IMAP SDC's release workflow is unfinished
/// upstream; these semantics follow its docstrings (imap-api.md §3.6):
/// - `release`: every science and quicklook product of the manifest's instrument whose start date lies in the
///   manifest's date range is released, except the files listed when the descriptor starts with `withhold-`;
/// - `early-release`: only the listed files are released;
/// - `unrelease`: the listed files are embargoed again.
public struct Releaser: Sendable {
    public let catalog: any FileCatalog
    public let store: any ObjectStore
    /// Manifests larger than this are refused.
    public static let maximumManifestSize = 16 << 20

    public init(catalog: any FileCatalog, store: any ObjectStore) {
        self.catalog = catalog
        self.store = store
    }

    /// What a manifest changed.
    public struct Outcome: Sendable, Equatable {
        /// Keys whose flag changed.
        public var changed: [String] = []
        /// Listed files kept embargoed by a `withhold-` manifest.
        public var withheld: [String] = []
        /// Listed names that are not valid names or not in the catalog.
        public var unknown: [String] = []
    }

    /// Why a manifest could not be applied.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public func apply(_ type: ReleaseType, manifest: IMAPFileName) async throws -> Outcome {
        guard let fields = manifest.ancillary, manifest.fileClass == .release else {
            throw Failure(description: "\(manifest.name) is not a release manifest")
        }
        var outcome = Outcome()
        var listed: [String] = []
        for name in try await listedNames(in: manifest) {
            if let file = try? IMAPFileName.parse(name), try await catalog.record(forKey: file.key) != nil {
                listed.append(file.key)
            } else {
                outcome.unknown.append(name)
            }
        }
        switch type {
        case .release:
            let withholding = fields.descriptor.hasPrefix("withhold-")
            var keys: [String] = []
            for table in [QueryTable.science, .quicklook] {
                var query = FileQuery(table: table)
                query.instrument = fields.instrument
                query.startDate = fields.startDate
                query.endDate = fields.endDate ?? fields.startDate
                query.versions = .all
                query.includeUnreleased = true
                keys += try await catalog.files(matching: query).map(\.key)
            }
            if withholding { outcome.withheld = keys.filter(listed.contains) }
            outcome.changed = try await setReleased(true, keys: keys.filter { !outcome.withheld.contains($0) })
        case .earlyRelease:
            outcome.changed = try await setReleased(true, keys: listed)
        case .unrelease:
            outcome.changed = try await setReleased(false, keys: listed)
        }
        return outcome
    }

    /// The keys among `keys` whose flag was different, after setting it.
    private func setReleased(_ released: Bool, keys: [String]) async throws -> [String] {
        var changed: [String] = []
        for key in keys where try await catalog.setReleased(released, keys: [key]) > 0 { changed.append(key) }
        return changed
    }

    private func listedNames(in manifest: IMAPFileName) async throws -> [String] {
        let key = try ObjectKey(manifest.key)
        var bytes: [UInt8] = []
        for try await chunk in try await store.read(key, range: nil) {
            bytes += chunk.readableBytesView
            if bytes.count > Self.maximumManifestSize {
                throw Failure(description: "\(manifest.name) is larger than \(Self.maximumManifestSize) bytes")
            }
        }
        return String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty, !text.hasPrefix("#") else { return nil }
            return String(text.split(separator: "/").last ?? Substring(text))
        }
    }
}

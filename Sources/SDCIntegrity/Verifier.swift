import SDCCatalog
import SDCCore
import SDCIngest
import SDCStorage

/// Re-reads stored objects and compares them with the catalog: each cataloged file's object must exist and have the
/// cataloged size and SHA-256 (else it is ``IntegrityProblem/missing`` or ``IntegrityProblem/corrupt``), and each
/// stored object must belong to a catalog row (else it is ``IntegrityProblem/orphaned``). It only reads: nothing is
/// ever deleted, moved or rewritten.
///
/// Objects are read ``concurrency`` at a time through an ``ObjectDigester`` (hashing on the processing pool, at its
/// rate limit). An object that the listing finds before its upload commits is not an orphan: keys reserved by an
/// upload in flight, and objects set aside under `rejected/` with their reason, are skipped, and every candidate is
/// looked up again at the end of the run.
public struct Verifier: Sendable {
    public let catalog: any VerifiableCatalog
    public let digester: ObjectDigester
    /// Objects read at once.
    public let concurrency: Int

    /// A verifier of `digester`'s store against `catalog`, reading `concurrency` objects at once (at least 1).
    public init(catalog: any VerifiableCatalog, digester: ObjectDigester, concurrency: Int) {
        self.catalog = catalog
        self.digester = digester
        self.concurrency = max(1, concurrency)
    }

    /// Checks every object in `scope`; with `findOrphans`, also lists the store for objects the catalog lacks.
    /// `progress` is called after each object with the totals so far. Throws when the catalog or the store listing
    /// cannot be read (a problem with one object is a finding, not an error), and `CancellationError` when cancelled.
    public func verify(_ scope: VerificationScope, findOrphans: Bool = true,
                       progress: (@Sendable (VerificationProgress) -> Void)? = nil) async throws -> VerificationReport {
        let startedAt = UTCTime.now
        var state = VerificationProgress()
        state.bytesExpected = try await expectedBytes(scope)
        var findings: [IntegrityFinding] = []
        var walk = CatalogWalk(catalog: catalog, scope: scope)
        let digester = digester
        try await withThrowingTaskGroup(of: (CatalogRecord, ObjectMeasurement).self) { group in
            var running = 0
            func take(_ result: (CatalogRecord, ObjectMeasurement)) {
                running -= 1
                state.objectsChecked += 1
                if case .measured(let size, _) = result.1 { state.bytesChecked += size }
                if let finding = Self.compare(result.0, result.1) {
                    findings.append(finding)
                    state.problems += 1
                }
                progress?(state)
            }
            while let page = try await walk.next() {
                for record in page {
                    if running == concurrency, let done = try await group.next() { take(done) }
                    group.addTask {
                        guard let key = try? ObjectKey(record.key) else {
                            return (record, .unreadable("the catalog's key is not a valid storage key"))
                        }
                        return (record, try await digester.measure(key))
                    }
                    running += 1
                }
            }
            while let done = try await group.next() { take(done) }
        }
        if findOrphans {
            let orphans = try await orphans(in: scope) { listed in
                state.objectsListed = listed
                progress?(state)
            }
            state.problems += orphans.count
            findings += orphans
            progress?(state)
        }
        findings.sort { ($0.problem, $0.key) < ($1.problem, $1.key) }
        return VerificationReport(scope: scope, startedAt: startedAt, finishedAt: .now, objectsChecked: state.objectsChecked,
                                  bytesChecked: state.bytesChecked, objectsListed: state.objectsListed, findings: findings)
    }

    /// The catalog's bytes in `scope` (science, quicklook, dependency and ancillary files; an estimate for progress).
    func expectedBytes(_ scope: VerificationScope) async throws -> Int64 {
        let usage = try await catalog.usage()
        guard let instruments = scope.instruments else { return usage.totalBytes }
        let names = Set(instruments.map(\.rawValue))
        return CatalogUsage(instruments: usage.instruments.filter { names.contains($0.instrument) }).totalBytes
    }

    /// The finding for a cataloged file whose object measured `measurement`, or nil when they agree.
    static func compare(_ record: CatalogRecord, _ measurement: ObjectMeasurement) -> IntegrityFinding? {
        switch measurement {
        case .absent:
            return IntegrityFinding(key: record.key, problem: .missing,
                                    detail: "cataloged with \(record.size) bytes, but the store has no object under this key")
        case .unreadable(let reason):
            return IntegrityFinding(key: record.key, problem: .unreadable, detail: reason)
        case .measured(let size, let sha256):
            if size != record.size {
                return IntegrityFinding(key: record.key, problem: .corrupt,
                                        detail: "the object has \(size) bytes, the catalog \(record.size) (SHA-256 \(sha256), catalog \(record.sha256))")
            }
            if sha256 != record.sha256 {
                return IntegrityFinding(key: record.key, problem: .corrupt,
                                        detail: "the object's SHA-256 is \(sha256), the catalog's \(record.sha256) (\(size) bytes)")
            }
            return nil
        }
    }

    /// The objects under `scope`'s prefixes that no catalog row accounts for.
    func orphans(in scope: VerificationScope, listed: (Int) -> Void) async throws -> [IntegrityFinding] {
        let store = digester.store
        var candidates: [ListedObject] = []
        var count = 0
        for prefix in scope.listingPrefixes {
            var inventory = try StoreInventory(store: store, prefix: prefix)
            while let page = try await inventory.next() {
                for object in page where !Self.isSetAside(object.name) {
                    if try await catalog.record(forKey: object.name) == nil { candidates.append(object) }
                }
                count += page.count
                listed(count)
            }
        }
        guard !candidates.isEmpty else { return [] }
        // Uploads in flight hold a reservation until they commit; a commit may also have landed since the lookup.
        let reserved = Set(try await catalog.reservedKeys())
        var orphans: [IntegrityFinding] = []
        for object in candidates where !reserved.contains(object.name) {
            if try await catalog.record(forKey: object.name) != nil { continue }
            orphans.append(IntegrityFinding(key: object.name, problem: .orphaned,
                                            detail: "a stored object of \(object.size) bytes that no catalog row names"))
        }
        return orphans
    }

    /// Whether `name` is an object that direct-to-bucket ingest set aside (with its `.reason`) rather than cataloged.
    static func isSetAside(_ name: String) -> Bool { name.hasPrefix(BucketIngest.rejectedFolder + "/") }
}

import ArgumentParser
import Foundation
import SDCClient
import SDCCore
import SDCIntegrity
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `sdc verify`: re-reads stored objects and compares them with the catalog.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-read stored objects and compare them with the catalog's size and SHA-256; report corrupt, missing and orphaned objects.",
        discussion: """
            Every cataloged file in scope is read to its end and hashed; the store is listed for objects that no catalog \
            row names (orphans). Nothing is ever deleted, moved or rewritten. Exit status: 0 when everything agrees, 1 \
            when a problem was found. Progress is drawn on standard error when it is a terminal.
            """)

    @OptionGroup var root: RootOption

    @Option(name: .customLong("instrument"), help: "Check this instrument's files (repeat for several).")
    var instruments: [Instrument] = []

    @Flag(help: "Check every file, SPICE kernels included, and search the whole store for orphans.")
    var all = false

    @Flag(help: "Skip the search for orphaned objects (only cataloged files are read).")
    var noOrphans = false

    @Option(help: "Read at most this many bytes per second (e.g. 50MB/s; default: as fast as the disk allows).")
    var rate: String?

    @Option(help: "Objects read at once (default: the processing pool's threads, at least 2 for an S3 store).")
    var concurrency: Int?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard all != !instruments.isEmpty else { throw ValidationError("give --all or at least one --instrument") }
        if let rate { _ = try Quantities.bytesPerSecond(rate) }
        if let concurrency, !(1...64).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 64") }
    }

    func run() async throws {
        let dataCenter = try await root.open()
        let limiter = try rate.map { ByteRateLimiter(bytesPerSecond: try Quantities.bytesPerSecond($0)) }
        let verifier = Verifier(catalog: dataCenter.catalog,
                                digester: ObjectDigester(store: dataCenter.store, limiter: limiter),
                                concurrency: concurrency ?? Self.defaultConcurrency(isBucket: dataCenter.bucket != nil))
        let bar = VerifyProgress()
        let report = try await verifier.verify(all ? .all : .instruments(instruments), findOrphans: !noOrphans) { bar.draw($0) }
        bar.finish()
        StandardOutput.write(json ? Self.json(report).serialized() + "\n" : Self.text(report))
        if !report.isClean { throw ExitCode.failure }
    }

    /// The pool's threads (hashing is the work), and a few more for a remote store (the network is).
    static func defaultConcurrency(isBucket: Bool) -> Int {
        isBucket ? max(4, ProcessingPool.shared.threadCount) : ProcessingPool.shared.threadCount
    }

    /// One line per problem, then a summary.
    static func text(_ report: VerificationReport) -> String {
        var lines = report.findings.map { "\($0.problem.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \($0.key)  \($0.detail)\n" }
        let counts = report.counts
        let seconds = max(1, report.finishedAt.secondsSince1970 - report.startedAt.secondsSince1970)
        lines.append("checked \(report.objectsChecked) objects (\(ProgressLine.byteCount(report.bytesChecked)), "
                     + "\(ProgressLine.byteCount(report.bytesChecked / seconds))/s), listed \(report.objectsListed): "
                     + IntegrityProblem.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ") + "\n")
        return lines.joined()
    }

    /// The report as JSON: totals, counts by problem and the findings.
    static func json(_ report: VerificationReport) -> JSONValue {
        let counts = report.counts
        return .object([
            ("started_at", .string(report.startedAt.iso8601)), ("finished_at", .string(report.finishedAt.iso8601)),
            ("objects_checked", .int(report.objectsChecked)), ("bytes_checked", .int(Int(report.bytesChecked))),
            ("objects_listed", .int(report.objectsListed)),
            ("counts", .object(IntegrityProblem.allCases.map { ($0.rawValue, .int(counts[$0] ?? 0)) })),
            ("findings", .array(report.findings.map {
                .object([("key", .string($0.key)), ("problem", .string($0.problem.rawValue)), ("detail", .string($0.detail))])
            })),
        ])
    }
}

/// The progress line of `sdc verify` on standard error, when it is a terminal, redrawn at most ten times a second.
final class VerifyProgress: Sendable {
    private let visible = isatty(STDERR_FILENO) == 1
    private let started = ContinuousClock.now
    private let lastDrawn = Mutex<ContinuousClock.Instant?>(nil)

    func draw(_ progress: VerificationProgress) {
        guard visible else { return }
        let now = ContinuousClock.now
        let due = lastDrawn.withLock { last in
            if let drawn = last, now - drawn < .milliseconds(100) { return false }
            last = now
            return true
        }
        guard due else { return }
        let label = "verify: \(progress.objectsChecked) objects, \(progress.problems) problems" + (progress.objectsListed > 0 ? ", \(progress.objectsListed) listed" : "")
        StandardError.write("\r" + ProgressLine.render(label: label, completed: progress.bytesChecked,
                                                       total: progress.bytesExpected > 0 ? progress.bytesExpected : nil,
                                                       elapsed: now - started) + "\u{1B}[K")
    }

    func finish() {
        if visible { StandardError.write("\r\u{1B}[K") }
    }
}

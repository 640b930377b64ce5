import Foundation
import Logging
import SDCCatalog
import SDCCore
import SDCIngest
import SDCJobs
import SDCStorage
import ServiceLifecycle

/// Turns arriving files into jobs (pipeline.md §2.2): every ingested file triggers its downstream products for its
/// day; after a short settling delay (so inputs arriving together make one job) each product's inputs are gathered
/// from the catalog, a job is created when every required input exists, and duplicates are absorbed by the job
/// store's uniqueness rule. A day whose required input (a SPICE kernel, an ancillary file, an upstream product or
/// the installed algorithm) is missing waits, visibly, naming the input, and is planned again when any input of its
/// product arrives, including inputs that do not trigger (`HARD_NO_TRIGGER`): it never runs without it.
///
/// Triggers are durable and claimed, never taken: a trigger is removed in the transaction that creates its job, so a
/// planner that dies mid-batch leaves its claimed triggers to be planned again once the claim lapses.
public struct Planner: IngestListener, Service {
    public let graph: DependencyGraph
    public let registry: AlgorithmRegistry
    public let catalog: any FileCatalog
    public let jobs: any JobStore
    /// The installed algorithms (`sdc algorithms install`) that algorithm entries may run; their digests are the jobs'
    /// algorithm versions.
    public let algorithms: (any AlgorithmStore)?
    /// How long triggers settle before planning (milliseconds).
    public var settleMilliseconds: Int64
    /// Triggers planned per round, so that a large reprocessing campaign is planned in bounded steps.
    public var batchSize = 64
    /// Where repoint tables are read from, for products partitioned by repointing (``Partition/repoint``).
    public let objects: (any ObjectStore)?
    let clock: JobClock
    let logger: Logger

    public init(graph: DependencyGraph, registry: AlgorithmRegistry, catalog: any FileCatalog, jobs: any JobStore,
                algorithms: (any AlgorithmStore)? = nil, objects: (any ObjectStore)? = nil, settleMilliseconds: Int64 = 500, clock: JobClock = .system,
                logger: Logger = Logger(label: "sdc.planner")) {
        self.graph = graph
        self.registry = registry
        self.catalog = catalog
        self.jobs = jobs
        self.algorithms = algorithms
        self.objects = objects
        self.settleMilliseconds = settleMilliseconds
        self.clock = clock
        self.logger = logger
    }

    // MARK: Triggers

    public func didIngest(_ record: CatalogRecord) async {
        let due = clock.milliseconds() + settleMilliseconds
        let coverage = Self.coverage(of: record.file)
        do {
            // Days waiting for this file (whatever the edge's relationship) are planned again.
            let consumers = graph.consumers(of: record.file)
            if !consumers.isEmpty {
                let woken = try await jobs.wakeWaitingTriggers(products: consumers, from: coverage.from, through: coverage.through, dueMilliseconds: due)
                if woken > 0 { logger.info("inputs arrived for waiting days", metadata: ["file": "\(record.key)", "days": "\(woken)"]) }
            }
            var triggers: [Trigger] = []
            for product in graph.triggeredProducts(by: record.file) {
                for (date, repointing) in await triggerDates(of: record.file, for: product, coverage: coverage) {
                    triggers.append(Trigger(product: product, date: date, repointing: repointing, campaign: 0))
                }
            }
            try await jobs.addTriggers(triggers, dueMilliseconds: due)
        } catch {
            logger.error("cannot record triggers", metadata: ["file": "\(record.key)", "error": "\(error)"])
        }
    }

    /// The days a file can serve: a science file its start date; an ancillary file its validity (open-ended: until
    /// today); a SPICE kernel the coverage its name states (none stated: every day).
    static func coverage(of file: IMAPFileName) -> (from: FileDate, through: FileDate) {
        let first = FileDate(year: 2010, month: 1, day: 1)!
        let last = FileDate(ordinalDay: UTCTime.now.date.ordinal + 366)
        if let science = file.science { return (science.startDate, science.startDate) }
        if let ancillary = file.ancillary { return (ancillary.startDate, ancillary.endDate ?? last) }
        if let spice = file.spice { return (spice.startDate ?? first, spice.endDate ?? last) }
        return (first, last)
    }

    /// The days a file triggers `product` for: a science file its start date; ancillary and SPICE files every day of
    /// their coverage on which the product's science input (its first science edge: the L0 of an L1 job) exists, so
    /// that a newer kernel or table reprocesses the days it covers, and only those.
    private func triggerDates(of file: IMAPFileName, for product: ProductNode,
                              coverage: (from: FileDate, through: FileDate)) async -> [(FileDate, Int?)] {
        if let science = file.science { return [(science.startDate, science.repointing)] }
        guard let primary = graph.inputs(of: product).first(where: { $0.parent.dataLevel != nil })?.parent,
              var query = FileQuery.science(of: primary, on: coverage.from, repointing: nil) else { return [] }
        query.endDate = coverage.through
        query.versions = .newest
        let days = (try? await catalog.files(matching: query))?.compactMap(\.file.science).map { ($0.startDate, $0.repointing) } ?? []
        var seen = Set<String>()
        return days.filter { seen.insert("\($0.0)-\($0.1 ?? -1)").inserted }
    }

    /// Plans one batch of the triggers that have settled; returns the jobs created.
    @discardableResult
    public func planDueTriggers() async throws -> [Job] {
        var created: [Job] = []
        for claimed in try await jobs.claimDueTriggers(nowMilliseconds: clock.milliseconds(), limit: batchSize) {
            let trigger = claimed.trigger
            let planned: (request: JobRequest, highestCatalogedMinor: Int?)
            switch try await jobRequest(for: trigger.product, date: trigger.date, repointing: trigger.repointing, campaign: trigger.campaign) {
            case .planned(let request, let highest): planned = (request, highest)
            case .waiting(let reason):
                logger.info("waiting", metadata: ["product": "\(trigger.product)", "date": "\(trigger.date)", "for": "\(reason)"])
                try await jobs.park(claimed, waitingFor: reason)
                continue
            }
            let outcome = try await jobs.submit(planned.request, highestCatalogedMinor: planned.highestCatalogedMinor, completing: claimed)
            if let outcome, outcome.created {
                logCreated(outcome.job)
                created.append(outcome.job)
            }
        }
        return created
    }

    /// Runs the planning loop until cancelled or graceful shutdown.
    public func run() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let created = try await planDueTriggers()
                for lost in try await jobs.expireLostJobs() {
                    logger.error("job failed: its worker stopped responding on the last attempt", metadata: ["job": "\(lost.id)"])
                }
                // A full batch means more may be due now.
                if created.count >= batchSize { continue }
                let next = try await jobs.nextTriggerDueMilliseconds()
                let wait = next.map { max(10, min(1000, $0 - clock.milliseconds())) } ?? 200
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(wait)) }
            } catch is CancellationError {
                return
            } catch {
                logger.error("planning failed: \(error)")
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
    }

    // MARK: Reprocessing

    /// Why a reprocess request cannot be planned.
    public struct ReprocessRefusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The products a reprocess request names: with a level, that product (descriptor `all` when none is given);
    /// otherwise the first products of each instrument chain (children of `(instrument, l0, raw)`), whose outputs
    /// then cascade.
    public func products(reprocessedBy request: ReprocessRequest) -> [ProductNode] {
        graph.products.filter { product in
            if let instrument = request.instrument, product.source != instrument.rawValue { return false }
            if let level = request.dataLevel {
                return product.dataType == level.rawValue && (request.descriptor == nil || product.descriptor == request.descriptor)
            }
            let kickOff = graph.inputs(of: product).contains { $0.parent.dataType == "l0" && $0.relationship.triggers }
            return kickOff && (request.descriptor == nil || product.descriptor == request.descriptor || product.descriptor == "all")
        }
    }

    /// Accepts a reprocess request: records a trigger (under the request's campaign) for every product and day it
    /// names, due at once, and returns how many. The planning loop then plans them in batches of ``batchSize``; days
    /// without their required inputs make no job. Ranges wider than ``JobLimits/maximumReprocessDays`` are refused.
    public func reprocess(_ request: ReprocessRequest) async throws -> Int {
        let days = request.endDate.ordinal - request.startDate.ordinal + 1
        guard days >= 1 else { throw ReprocessRefusal(description: "start_date \(request.startDate) is after end_date \(request.endDate)") }
        guard days <= JobLimits.maximumReprocessDays else {
            throw ReprocessRefusal(description: "the range \(request.startDate) to \(request.endDate) is \(days) days; one request may cover at most \(JobLimits.maximumReprocessDays) days")
        }
        try await pinAlgorithm(of: request)
        let products = products(reprocessedBy: request)
        var triggers: [Trigger] = []
        triggers.reserveCapacity(products.count * days)
        for ordinal in request.startDate.ordinal...request.endDate.ordinal {
            let day = FileDate(ordinalDay: ordinal)
            triggers += products.map { Trigger(product: $0, date: day, repointing: nil, campaign: request.id) }
        }
        try await jobs.addTriggers(triggers, dueMilliseconds: clock.milliseconds())
        logger.info("reprocess request accepted", metadata: ["request": "\(request.id)", "products": "\(products)", "days": "\(days)"])
        return triggers.count
    }

    // MARK: Planning one product and day

    /// What planning one product and day came to.
    enum Planning {
        /// The job, with the highest minor version already cataloged among the products it makes (at every level).
        case planned(JobRequest, highestCatalogedMinor: Int?)
        /// A required input or the algorithm is missing: what the day waits for.
        case waiting(String)
    }

    /// Gathers the inputs of `product` for `date` and submits its job; nil when an input is missing, no algorithm
    /// makes the product, or an identical job exists.
    public func plan(_ product: ProductNode, date: FileDate, repointing: Int?, campaign: Int64) async throws -> Job? {
        guard case .planned(let request, let highest) = try await jobRequest(for: product, date: date, repointing: repointing, campaign: campaign) else {
            return nil
        }
        let (job, created) = try await jobs.submit(request, highestCatalogedMinor: highest)
        if created { logCreated(job) }
        return created ? job : nil
    }

    /// The job `product` needs for `date`, or what it waits for: every missing required input (a SPICE kernel of the
    /// edge's type covering the day, the ancillary file valid that day, the upstream product of that day), or the
    /// algorithm when it is not installed. Inputs are grouped as production groups them: one group per science or
    /// ancillary node, every SPICE kernel in one group.
    func jobRequest(for product: ProductNode, date: FileDate, repointing: Int?, campaign: Int64) async throws -> Planning {
        guard let algorithm = registry.algorithm(for: product) else {
            return .waiting("an algorithm for \(product): add it to the algorithm registry")
        }
        var inputs = ProcessingInputCollection()
        var missing: [String] = []
        var repointing = repointing
        if algorithm.partition == .repoint, repointing == nil {
            switch try await self.repointing(of: product, on: date) {
            case .success(let found): repointing = found
            case .failure(let wait): missing.append(wait.description)
            }
        }
        // Production requires one kernel of any requested ephemeris type when a job requests several (MAG L2 names
        // reconstructed and predicted): those edges are satisfied together.
        let ephemerisEdges = graph.inputs(of: product).filter { $0.parent.kernelType?.isEphemeris == true && $0.relationship.isRequired }
        var ephemerisFound = false
        for edge in graph.inputs(of: product) {
            // A repoint-partitioned product made from daily products reads them by day.
            let daily = algorithm.partition == .repoint && registry.algorithm(for: edge.parent)?.partition != .repoint
            let files = try await inputFiles(for: edge.parent, date: date, repointing: daily ? nil : repointing)
            if files.isEmpty && edge.relationship.isRequired {
                if ephemerisEdges.count < 2 || !ephemerisEdges.contains(edge) { missing.append(Self.describe(missing: edge.parent, date: date)) }
                continue
            }
            if edge.parent.kernelType?.isEphemeris == true { ephemerisFound = true }
            inputs.add(type: files.first.map(ProcessingInputCollection.groupType) ?? "science", files: files.map(\.name))
        }
        if ephemerisEdges.count > 1 && !ephemerisFound {
            missing.append("an ephemeris kernel (\(ephemerisEdges.map(\.parent.source).joined(separator: " or "))) covering \(date)")
        }
        var seen = Set<String>()  // a missing repoint table is also a missing input of the `repoint` edge
        missing = missing.filter { seen.insert($0).inserted }
        guard missing.isEmpty else { return .waiting(missing.joined(separator: "; ")) }
        guard let identity = try await jobIdentity(of: algorithm, for: product, date: date, campaign: campaign) else {
            return .waiting("the algorithm \(algorithm.installedEntry?.reference.description ?? algorithm.name) to be installed "
                            + "(sdc algorithms install NAME SPEC)")
        }
        let request = JobRequest(product: product, startDate: date, repointing: repointing, products: algorithm.products,
                                 algorithm: identity.algorithm, algorithmVersion: identity.version, majorVersion: algorithm.majorVersion,
                                 inputs: inputs, campaign: campaign, maxAttempts: algorithm.maxAttempts)
        var highest: Int?
        for made in request.products {
            if let minor = try await highestMinor(of: made, date: date, major: algorithm.majorVersion) { highest = max(highest ?? 0, minor) }
        }
        return .planned(request, highestCatalogedMinor: highest)
    }

    /// What a day waits for when `node` has no file for `date`.
    static func describe(missing node: ProductNode, date: FileDate) -> String {
        if let kernelType = SPICEKernelType(rawValue: node.source) {
            let standIns = node.acceptedKernelTypes.dropFirst().map(\.rawValue)
            let or = standIns.isEmpty ? "" : ": or \(standIns.joined(separator: ", "))"
            return "\(kernelType.rawValue) kernel (\(node.dataType), \(node.descriptor)\(or)) covering \(date)"
        }
        if node.dataType == "ancillary" { return "ancillary \(node.source) \(node.descriptor) valid on \(date)" }
        return "\(node) of \(date)"
    }

    private func logCreated(_ job: Job) {
        logger.info("job created", metadata: ["job": "\(job.id)", "product": "\(job.product)", "date": "\(job.startDate)",
                                             "version": "\(job.version)", "inputs": "\(job.inputsHash)"])
    }

    /// The files of an upstream node that serve `date`: the newest version of each science series for that day;
    /// the newest ancillary file valid that day per descriptor; the newest kernels of a SPICE type covering it (for a
    /// `best` edge, of the first accepted type that covers it: predictions stand in for missing reconstructions; of
    /// repoint tables, which imap_cli takes one of, the one reaching furthest).
    func inputFiles(for node: ProductNode, date: FileDate, repointing: Int?) async throws -> [IMAPFileName] {
        if var query = FileQuery.science(of: node, on: date, repointing: repointing) {
            query.versions = .newest
            return try await catalog.files(matching: query).map(\.file)
        }
        if node.dataType == "ancillary", let instrument = node.instrument {
            var query = FileQuery(table: .ancillary)
            query.instrument = instrument
            query.descriptor = node.descriptor
            query.endDate = date
            query.includeUnreleased = true
            let valid = try await catalog.files(matching: query).map(\.file).compactMap { file -> (IMAPFileName, AncillaryFileName)? in
                guard let fields = file.ancillary, fields.endDate.map({ $0 >= date }) ?? true else { return nil }
                return (file, fields)
            }
            let newest = valid.max { ($0.1.startDate, $0.1.version) < ($1.1.startDate, $1.1.version) }?.0
            return newest.map { [$0] } ?? []
        }
        // SPICE: the edge's own type; under `best`, where none of it covers the day, its first stand-in that does.
        for kernelType in node.acceptedKernelTypes {
            var query = SPICEQuery()
            query.kernelType = kernelType
            query.startDate = date
            query.endDate = date
            query.latest = true
            let kernels = try await catalog.kernels(matching: query).map(\.file)
            if kernelType == .repoint, let newest = RepointTable.newest(of: kernels) { return [newest] }
            if !kernels.isEmpty { return kernels }
        }
        return []
    }

    /// The highest cataloged minor version of the product for the day under `major` (any descriptor for `all`). For an
    /// ancillary product, named `vNNN` with the job's minor whatever its major (as imap_cli names them), the highest
    /// version of any file of its descriptor starting that day: a new job's ancillary name never collides with an older one.
    func highestMinor(of product: ProductNode, date: FileDate, major: Int) async throws -> Int? {
        if product.dataType == "ancillary" {
            guard let instrument = product.instrument else { return nil }
            var query = FileQuery(table: .ancillary)
            (query.instrument, query.descriptor, query.startDate, query.endDate) = (instrument, product.descriptor, date, date)
            (query.includeUnreleased, query.versions) = (true, .all)
            return try await catalog.files(matching: query).compactMap(\.file.ancillary?.version.minor).max()
        }
        guard var query = FileQuery.science(of: product, on: date, repointing: nil) else { return nil }
        query.majorVersion = major
        query.versions = .all
        return try await catalog.files(matching: query).compactMap(\.file.science?.version.minor).max()
    }
}

extension FileQuery {
    /// Every version of the science files of `node` (any descriptor for `all`) that start on `date`, unreleased
    /// included; nil when the node is not an instrument level.
    static func science(of node: ProductNode, on date: FileDate, repointing: Int?) -> FileQuery? {
        guard let instrument = node.instrument, let level = node.dataLevel else { return nil }
        var query = FileQuery(table: .science)
        query.instrument = instrument
        query.dataLevel = level
        if node.descriptor != "all" { query.descriptor = node.descriptor }
        query.startDate = date
        query.endDate = date
        query.repointing = repointing
        query.includeUnreleased = true
        query.versions = .all
        return query
    }
}

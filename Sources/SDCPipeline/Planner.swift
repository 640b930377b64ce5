import Foundation
import Logging
import SDCCatalog
import SDCCore
import SDCIngest

/// Milliseconds since 1970, for trigger deadlines.
func currentMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

/// Turns arriving files into jobs (pipeline.md §2.2): every ingested file triggers its downstream products for its
/// day; after a short settling delay (so inputs arriving together make one job) each product's inputs are gathered
/// from the catalog, a job is created when every required input exists, and duplicates are absorbed by the job
/// store's uniqueness rule.
public struct Planner: IngestListener {
    public let graph: DependencyGraph
    public let registry: AlgorithmRegistry
    public let catalog: any FileCatalog
    public let jobs: any JobStore
    /// How long triggers settle before planning (milliseconds).
    public var settleMilliseconds: Int64
    let logger: Logger

    public init(graph: DependencyGraph, registry: AlgorithmRegistry, catalog: any FileCatalog, jobs: any JobStore,
                settleMilliseconds: Int64 = 500, logger: Logger = Logger(label: "sdc.planner")) {
        self.graph = graph
        self.registry = registry
        self.catalog = catalog
        self.jobs = jobs
        self.settleMilliseconds = settleMilliseconds
        self.logger = logger
    }

    // MARK: Triggers

    public func didIngest(_ record: CatalogRecord) async {
        let products = graph.triggeredProducts(by: record.file)
        guard !products.isEmpty else { return }
        let dates = await triggerDates(of: record.file)
        for product in products {
            for (date, repointing) in dates {
                do {
                    try await jobs.addTrigger(product: product, date: date, repointing: repointing, campaign: 0,
                                              dueMilliseconds: currentMilliseconds() + settleMilliseconds)
                } catch {
                    logger.error("cannot record trigger", metadata: ["product": "\(product)", "error": "\(error)"])
                }
            }
        }
    }

    /// The days a file feeds: a science file its start date; ancillary and SPICE files every day of their validity
    /// that already has science data of the same instrument (at most a year).
    private func triggerDates(of file: IMAPFileName) async -> [(FileDate, Int?)] {
        if let science = file.science { return [(science.startDate, science.repointing)] }
        var start = FileDate(year: 2010, month: 1, day: 1)!
        var end = UTCTime.now.date
        if let ancillary = file.ancillary {
            start = ancillary.startDate
            end = ancillary.endDate ?? end
        } else if let spice = file.spice {
            start = spice.startDate ?? start
            end = spice.endDate ?? end
        }
        if end.ordinal - start.ordinal > 366 { start = FileDate(ordinalDay: end.ordinal - 366) }
        var query = FileQuery(table: .science)
        query.instrument = file.instrument
        query.startDate = start
        query.endDate = end
        query.includeUnreleased = true
        query.versions = .newest
        let days = (try? await catalog.files(matching: query))?.compactMap(\.file.science).map { ($0.startDate, $0.repointing) } ?? []
        var seen = Set<String>()
        return days.filter { seen.insert("\($0.0)-\($0.1 ?? -1)").inserted }
    }

    /// Plans every trigger that has settled; returns the jobs created.
    @discardableResult
    public func planDueTriggers() async throws -> [Job] {
        var created: [Job] = []
        for trigger in try await jobs.takeDueTriggers(nowMilliseconds: currentMilliseconds()) {
            if let job = try await plan(trigger.product, date: trigger.date, repointing: trigger.repointing, campaign: trigger.campaign) {
                created.append(job)
            }
        }
        return created
    }

    /// Runs the planning loop until cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await planDueTriggers()
                for lost in try await jobs.expireLostJobs() {
                    logger.error("job failed: its worker stopped responding on the last attempt", metadata: ["job": "\(lost.id)"])
                }
                let next = try await jobs.nextTriggerDueMilliseconds()
                let wait = next.map { max(10, min(1000, $0 - currentMilliseconds())) } ?? 200
                try await Task.sleep(for: .milliseconds(wait))
            } catch is CancellationError {
                return
            } catch {
                logger.error("planning failed: \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    // MARK: Reprocessing

    /// Creates new jobs (one minor version up) for every product and day a reprocess request names: with a level, that
    /// product (descriptor `all` when none is given); otherwise the first products of each instrument chain
    /// (children of `(instrument, l0, raw)`), whose outputs then cascade. Days without their required inputs are skipped.
    public func reprocess(_ request: ReprocessRequest) async throws -> [Job] {
        let products = graph.products.filter { product in
            if let instrument = request.instrument, product.source != instrument.rawValue { return false }
            if let level = request.dataLevel {
                return product.dataType == level.rawValue && (request.descriptor == nil || product.descriptor == request.descriptor)
            }
            let kickOff = graph.inputs(of: product).contains { $0.parent.dataType == "l0" && $0.relationship.triggers }
            return kickOff && (request.descriptor == nil || product.descriptor == request.descriptor || product.descriptor == "all")
        }
        var created: [Job] = []
        var day = request.startDate
        while day <= request.endDate {
            for product in products {
                if let job = try await plan(product, date: day, repointing: nil, campaign: request.id) { created.append(job) }
            }
            day = day.nextDay
        }
        return created
    }

    // MARK: Planning one product and day

    /// Gathers the inputs of `product` for `date` and submits its job; nil when an input is missing, no algorithm
    /// makes the product, or an identical job exists.
    public func plan(_ product: ProductNode, date: FileDate, repointing: Int?, campaign: Int64) async throws -> Job? {
        guard let algorithm = registry.algorithm(for: product) else {
            logger.warning("no algorithm makes \(product): add it to the algorithm registry")
            return nil
        }
        var inputs = ProcessingInputCollection()
        for edge in graph.inputs(of: product) {
            let files = try await inputFiles(for: edge.parent, date: date, repointing: repointing)
            if files.isEmpty && edge.relationship.isRequired {
                logger.info("not planning \(product) for \(date): required input \(edge.parent) is missing")
                return nil
            }
            inputs.add(type: files.first.map(ProcessingInputCollection.groupType) ?? "science", files: files.map(\.name))
        }
        let request = JobRequest(product: product, startDate: date, repointing: repointing, algorithm: algorithm.name,
                                 algorithmVersion: algorithm.version, majorVersion: algorithm.majorVersion, inputs: inputs,
                                 campaign: campaign, maxAttempts: algorithm.maxAttempts)
        let (job, created) = try await jobs.submit(request, highestCatalogedMinor: try await highestMinor(of: product, date: date,
                                                                                                           major: algorithm.majorVersion))
        if created {
            logger.info("job created", metadata: ["job": "\(job.id)", "product": "\(product)", "date": "\(date)",
                                                 "version": "\(job.version)", "inputs": "\(job.inputsHash)"])
        }
        return created ? job : nil
    }

    /// The files of an upstream node that serve `date`: the newest version of each science series for that day;
    /// the newest ancillary file valid that day per descriptor; the newest kernels of a SPICE type covering it.
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
            let valid = try await catalog.files(matching: query).map(\.file).filter { file in
                guard let fields = file.ancillary else { return false }
                return fields.endDate.map { $0 >= date } ?? true
            }
            let newest = valid.max { ($0.ancillary!.startDate, $0.ancillary!.version) < ($1.ancillary!.startDate, $1.ancillary!.version) }
            return newest.map { [$0] } ?? []
        }
        guard let kernelType = SPICEKernelType(rawValue: node.source) else { return [] }
        var query = SPICEQuery()
        query.kernelType = kernelType
        query.startDate = date
        query.endDate = date
        query.latest = true
        return try await catalog.kernels(matching: query).map(\.file)
    }

    /// The highest cataloged minor version of the product for the day under `major` (any descriptor for `all`).
    func highestMinor(of product: ProductNode, date: FileDate, major: Int) async throws -> Int? {
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

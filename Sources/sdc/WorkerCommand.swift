import ArgumentParser
import Foundation
import Logging
import SDCPipeline
import SDCServer

/// `sdc worker`: run processing jobs in a separate process.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run processing jobs in this process, beside or instead of `sdc serve`'s own workers.",
        discussion: """
            With --api-key the worker needs nothing but the API: it claims jobs through /api-key/jobs, downloads \
            inputs and uploads products like any client (the key needs write scope). With --root instead it works \
            directly on a data center folder on this machine. Kill it at any time: its job is retried by another \
            worker once the lease expires.
            """
    )

    @Option(help: "The data center's API URL (also handed to external algorithms).")
    var url: String

    @Option(help: "An API key with write scope: work through the API.")
    var apiKey: String?

    @Option(help: "Work directly on this data center folder instead of through the API.")
    var root: String?

    @OptionGroup var pipelineOptions: PipelineOptions

    @Option(help: "Concurrent jobs.")
    var workers = 1

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard (apiKey == nil) != (root == nil) else { throw ValidationError("give either --api-key (work through the API) or --root (work on a local data center folder)") }
    }

    func run() async throws {
        bootstrapLogging(logLevel)
        let pipeline = try pipelineOptions.load()
        let queue: any JobQueue
        let environment: any WorkerEnvironment
        var remote: RemoteDataCenter?
        if let apiKey {
            let dataCenter = RemoteDataCenter(baseURL: url, apiKey: apiKey)
            remote = dataCenter
            queue = HTTPJobQueue(dataCenter)
            environment = RemoteWorkerEnvironment(dataCenter)
        } else {
            let dataCenter = try DataCenter(root: URL(fileURLWithPath: root!))
            queue = dataCenter.jobs
            environment = LocalWorkerEnvironment(ingestor: dataCenter.ingestor(), keys: dataCenter.catalog, store: dataCenter.store) { [url] in url }
        }
        let leaseSeconds = pipelineOptions.leaseSeconds
        FileHandle.standardOutput.write(Data("sdc worker \(getpid()) running \(workers) job(s) at a time for \(url)\n".utf8))
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<max(1, workers) {
                let worker = Worker(id: "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(index)", jobs: queue,
                                    registry: pipeline.registry, environment: environment, leaseSeconds: leaseSeconds)
                group.addTask { await worker.run() }
            }
        }
        try await remote?.shutdown()
    }
}

import ArgumentParser
import Foundation
import Logging
import SDCPipeline
import SDCServer

/// `sdc worker`: run processing jobs in a separate process.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run processing jobs of a data center in this process (beside or instead of `sdc serve`'s own workers).",
        discussion: "The worker claims jobs from the data center folder's job table under a lease and ingests products into its store; external algorithms reach the API at --url. Kill it at any time: its job is retried once the lease expires."
    )

    @OptionGroup var root: RootOption
    @OptionGroup var pipelineOptions: PipelineOptions

    @Option(help: "The data center's API URL, handed to external algorithms.")
    var url: String

    @Option(help: "Concurrent jobs.")
    var workers = 1

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        bootstrapLogging(logLevel)
        let dataCenter = try DataCenter(root: root.url)
        let pipeline = try pipelineOptions.load()
        let environment = LocalWorkerEnvironment(ingestor: dataCenter.ingestor(), keys: dataCenter.catalog, store: dataCenter.store) { [url] in url }
        let leaseSeconds = pipelineOptions.leaseSeconds
        FileHandle.standardOutput.write(Data("sdc worker \(getpid()) running \(workers) job(s) at a time\n".utf8))
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<max(1, workers) {
                let worker = Worker(id: "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(index)", jobs: dataCenter.jobs,
                                    registry: pipeline.registry, environment: environment, leaseSeconds: leaseSeconds)
                group.addTask { await worker.run() }
            }
        }
    }
}

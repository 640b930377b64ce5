import ArgumentParser
import Foundation
import SDCCore
import SDCAssembly
import SDCJobs
import SDCPipeline
import SDCServer

/// `sdc jobs`: look at and retry processing jobs.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List, show, read the logs of, and retry processing jobs.",
        subcommands: [List.self, Show.self, Logs.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, most recent first.")
        @OptionGroup var root: RootOption
        @Option(help: "queued, running, succeeded or failed.") var status: JobStatus?
        @Option(help: "Instrument.") var instrument: String?
        @Option(help: "How many.") var limit = 50
        @Flag(help: "Only the days waiting for a missing input (a SPICE kernel, an ancillary file, an upstream product or the algorithm).")
        var waiting = false

        func run() async throws {
            let store = try await root.open().jobs
            let instrument = instrument.flatMap(Instrument.init(rawValue:))
            // Days waiting for an input come first, as rows of status `waiting` naming what they wait for.
            let waitingRows = status == nil
                ? try await store.waitingTriggers(limit: limit)
                    .filter { instrument == nil || $0.trigger.product.instrument == instrument }
                    .map { ["-", "waiting", $0.trigger.product.description, $0.trigger.date.description, "-", "-", "-", "waiting for " + $0.reason] }
                : []
            let jobs = waiting ? [] : try await store.jobs(matching: JobFilter(status: status, instrument: instrument, limit: limit))
            let rows = jobs.map { job in
                [String(job.id), job.status.rawValue, job.product.description, job.startDate.description, job.version.description,
                 "\(job.attempts)/\(job.maxAttempts)", job.outputs.count.description, job.error ?? ""]
            }
            print(TextTable.render(header: ["ID", "STATUS", "PRODUCT", "DATE", "VERSION", "ATTEMPTS", "PRODUCTS", "ERROR"],
                                   rows: Array((waitingRows + rows).prefix(limit))))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job: inputs, products, timings.")
        @OptionGroup var root: RootOption
        @Argument var id: Int64

        func run() async throws {
            guard let job = try await root.open().jobs.job(id: id) else { throw ValidationError("no job \(id)") }
            print("""
                job \(job.id): \(job.status.rawValue)
                product:   \(job.product) for \(job.startDate)\(job.repointing.map { " repointing \($0)" } ?? "") as \(job.version)
                algorithm: \(job.algorithm) \(job.algorithmVersion)
                attempts:  \(job.attempts) of \(job.maxAttempts)\(job.workerID.map { " (last on \($0))" } ?? "")
                created:   \(job.createdAt.iso8601)   started: \(job.startedAt?.iso8601 ?? "-")   finished: \(job.finishedAt?.iso8601 ?? "-")
                inputs (\(job.inputsHash)):
                \(job.inputNames.map { "  " + $0 }.joined(separator: "\n"))
                products:
                \(job.outputs.map { "  " + $0 }.joined(separator: "\n"))
                \(job.error.map { "error: " + $0 } ?? "")
                """)
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a job's log (every attempt).")
        @OptionGroup var root: RootOption
        @Argument var id: Int64

        func run() async throws {
            guard let job = try await root.open().jobs.job(id: id) else { throw ValidationError("no job \(id)") }
            print(job.log, terminator: "")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a failed job again with fresh attempts.")
        @OptionGroup var root: RootOption
        @Argument var id: Int64

        func run() async throws {
            let job = try await root.open().jobs.retry(jobID: id)
            print("job \(job.id) queued again")
        }
    }
}

extension JobStatus: ExpressibleByArgument {}

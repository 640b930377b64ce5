import Foundation
import SDCCore
import SDCJobs

/// A Slurm job's state, as `scontrol show job` (`JobState=`) and `sacct` (`State`) name it.
public enum SlurmJobState: String, Sendable, CaseIterable {
    case pending = "PENDING", configuring = "CONFIGURING", requeued = "REQUEUED", requeueHold = "REQUEUE_HOLD",
         requeueFederation = "REQUEUE_FED", resizing = "RESIZING", suspended = "SUSPENDED", stopped = "STOPPED"
    case running = "RUNNING", completing = "COMPLETING", signaling = "SIGNALING", stageOut = "STAGE_OUT"
    case completed = "COMPLETED", failed = "FAILED", timeout = "TIMEOUT", nodeFail = "NODE_FAIL", cancelled = "CANCELLED",
         preempted = "PREEMPTED", outOfMemory = "OUT_OF_MEMORY", bootFail = "BOOT_FAIL", deadline = "DEADLINE",
         specialExit = "SPECIAL_EXIT", revoked = "REVOKED"

    /// Parses a state as the tools print it (`sacct` may add words: `CANCELLED by 0`).
    public init?(reported text: String) {
        guard let word = text.split(separator: " ").first, let state = SlurmJobState(rawValue: word.uppercased()) else { return nil }
        self = state
    }

    /// Waiting for, or between, its run: sdc keeps renewing the lease.
    public var isWaiting: Bool {
        switch self {
        case .pending, .configuring, .requeued, .requeueHold, .requeueFederation, .resizing, .suspended, .stopped: true
        default: false
        }
    }

    /// Running on a node (its time counts towards the job's timeout).
    public var isRunning: Bool {
        switch self {
        case .running, .completing, .signaling, .stageOut: true
        default: false
        }
    }

    public var isFinished: Bool { !isWaiting && !isRunning }

    /// What sdc records for a Slurm job that ended in this state without its `sdc run-job` recording the job's outcome
    /// (killed, or never started): a failed attempt (retried while attempts remain), or, when the job was stopped through
    /// no fault of its own, a hand-back (queued again at once, the attempt not counted). Nil while it has not ended.
    public func verdict(slurmJobID: String, exitCode: String) -> SlurmVerdict? {
        let job = "Slurm job \(slurmJobID)"
        switch self {
        case _ where !isFinished: return nil
        case .completed: return .failed("\(job) completed, but its sdc run-job recorded no outcome")
        case .failed: return .failed("\(job) failed (exit \(exitCode)) before its sdc run-job recorded an outcome")
        case .timeout: return .failed("\(job) reached its time limit")
        case .deadline: return .failed("\(job) reached its deadline")
        case .outOfMemory: return .failed("\(job) ran out of memory")
        case .cancelled: return .failed("\(job) was cancelled (scancel)")
        case .nodeFail: return .interrupted("\(job)'s node failed")
        case .bootFail: return .interrupted("\(job)'s node failed to boot")
        case .preempted: return .interrupted("\(job) was preempted")
        case .revoked: return .interrupted("\(job) was revoked (it runs on another cluster)")
        default: return .failed("\(job) ended \(rawValue)")
        }
    }
}

/// How sdc records a Slurm job that ended without recording its own outcome.
public enum SlurmVerdict: Sendable, Equatable {
    /// A failed attempt.
    case failed(String)
    /// Handed back: queued again at once, the attempt not counted.
    case interrupted(String)
}

/// What Slurm reports of one job.
public struct SlurmJobRecord: Sendable, Equatable {
    public var state: SlurmJobState
    /// `EXIT:SIGNAL`, e.g. `1:0` or `0:15`.
    public var exitCode: String
    public var reason: String
    public var nodes: String

    public init(state: SlurmJobState, exitCode: String = "0:0", reason: String = "None", nodes: String = "") {
        self.state = state
        self.exitCode = exitCode
        self.reason = reason
        self.nodes = nodes
    }

    /// Parses `scontrol show job --oneliner ID` (`Key=Value` fields separated by spaces; a value with spaces continues
    /// until the next `Key=`); nil without a known `JobState`.
    public init?(scontrol text: String) {
        var fields: [String: String] = [:]
        var last: String?
        for token in text.split(whereSeparator: \.isWhitespace) {
            if let equals = token.firstIndex(of: "="), token[..<equals].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "/" || $0 == ":" }) {
                let key = String(token[..<equals])
                fields[key] = String(token[token.index(after: equals)...])
                last = key
            } else if let last {
                fields[last, default: ""] += " " + token
            }
        }
        guard let state = fields["JobState"].flatMap(SlurmJobState.init(reported:)) else { return nil }
        self.init(state: state, exitCode: fields["ExitCode"] ?? "0:0", reason: fields["Reason"] ?? "None", nodes: fields["NodeList"] ?? "")
    }

    /// Parses `sacct --noheader --allocations --parsable2 --format=State,ExitCode,Reason,NodeList` for one job.
    public init?(sacct text: String) {
        guard let line = text.split(separator: "\n").first(where: { !$0.isEmpty }) else { return nil }
        let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 4, let state = SlurmJobState(reported: fields[0]) else { return nil }
        self.init(state: state, exitCode: fields[1], reason: fields[2], nodes: fields[3])
    }

    /// One line for the job log.
    public func summary(slurmJobID: String) -> String {
        "[slurm] job \(slurmJobID)\(nodes.isEmpty ? "" : " on \(nodes)"): \(state.rawValue), exit \(exitCode), reason \(reason)"
    }
}

/// Where and how the Slurm executor submits jobs.
public struct SlurmConfiguration: Sendable {
    /// `--partition`; nil for the cluster's default partition.
    public var partition: String?
    /// The `sdc` executable on the nodes (the same path on each).
    public var sdcExecutable: String
    /// The pipeline folder on the nodes (nil: the built-in configuration).
    public var pipelineFolder: String?
    /// A folder that exists on every node, for each job's working directory and Slurm output file.
    public var nodeFolder = "/tmp"
    /// Slowest poll of a job's state (polls start at a quarter second and grow by half up to this).
    public var slowestPoll: Duration = .seconds(5)

    public init(partition: String? = nil, sdcExecutable: String, pipelineFolder: String? = nil) {
        self.partition = partition
        self.sdcExecutable = sdcExecutable
        self.pipelineFolder = pipelineFolder
    }
}

/// One sdc job as a Slurm batch job: `sbatch` arguments, the batch script (read by `sbatch` from its standard input)
/// and the variables added to `sbatch`'s environment. The script runs `sdc run-job` with the job's description on
/// standard input; the API's URL and the job's credential travel in the environment (`--export` names them, so their
/// values never appear on a command line), and nothing else of the submitting process's environment goes along except
/// `PATH` and, when set, `SDC_ALGORITHMS_DIR` (where the nodes keep installed algorithms' environments).
public struct SlurmBatchJob: Sendable, Equatable {
    public var arguments: [String]
    public var script: String
    public var environment: [String: String]
    /// Slurm's `--time`, in seconds: the algorithm's timeout rounded up to minutes, plus a minute for `sdc run-job`.
    public var timeLimitSeconds: Int

    /// Variables that carry the API's URL and the job's credential to `sdc run-job`.
    public static let urlVariable = "SDC_API_URL"
    public static let credentialVariable = "SDC_JOB_CREDENTIAL"

    public init(claimed: ClaimedJob, apiURL: String, timeoutSeconds: Int, leaseSeconds: Int64, configuration: SlurmConfiguration) {
        let job = claimed.job
        let minutes = (max(1, timeoutSeconds) + 59) / 60 + 1
        timeLimitSeconds = minutes * 60
        arguments = ["--parsable", "--job-name=sdc-\(job.id)-\(job.product.source)-\(job.product.dataType)",
                     "--ntasks=1", "--cpus-per-task=1", "--no-requeue", "--time=\(minutes)",
                     "--chdir=\(configuration.nodeFolder)", "--output=\(Self.outputPath(jobID: job.id, slurmJobID: "%j", in: configuration.nodeFolder))",
                     "--export=PATH,SDC_ALGORITHMS_DIR,\(Self.urlVariable),\(Self.credentialVariable)"]
        if let partition = configuration.partition { arguments.append("--partition=\(partition)") }
        var command = [configuration.sdcExecutable, "run-job", "--lease-seconds", String(leaseSeconds)]
        if let folder = configuration.pipelineFolder { command += ["--pipeline", folder] }
        // The job's work folder (its inputs, the algorithm's files) is a fresh folder that the script removes when it
        // ends, also when scancel ends it (Slurm sends SIGTERM to every process of the job, the script included).
        let workFolder = Self.shellQuoted((configuration.nodeFolder.hasSuffix("/") ? configuration.nodeFolder : configuration.nodeFolder + "/")
                                          + "sdc-job-\(job.id)-XXXXXX")
        script = """
            #!/bin/sh
            # sdc job \(job.id): \(job.product) for \(job.startDate) as \(job.version), attempt \(job.attempts) of \(job.maxAttempts)
            work=$(mktemp -d \(workFolder)) || exit 1
            trap 'rm -rf "$work"' EXIT
            trap 'exit 143' TERM
            TMPDIR=$work \(command.map(Self.shellQuoted).joined(separator: " ")) <<'SDC_JOB'
            \(job.wire.serialized())
            SDC_JOB

            """
        environment = [Self.urlVariable: apiURL, Self.credentialVariable: claimed.credential.secret]
    }

    /// The Slurm output file of an sdc job's Slurm job (`%j` for `--output`).
    public static func outputPath(jobID: Int64, slurmJobID: String, in folder: String) -> String {
        (folder.hasSuffix("/") ? folder : folder + "/") + "sdc-job-\(jobID)-slurm-\(slurmJobID).out"
    }

    /// `text` as one single-quoted shell word.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// The Slurm job id `sbatch --parsable` printed (`ID` or `ID;CLUSTER`); nil if it printed none.
    public static func submittedID(_ output: String) -> String? {
        guard let line = output.split(whereSeparator: \.isNewline).last,
              let id = line.split(separator: ";").first, !id.isEmpty, id.allSatisfy(\.isNumber) else { return nil }
        return String(id)
    }
}

import Foundation
import SDCCore
import Testing
@testable import SDCJobs
@testable import SDCPipeline

/// The Slurm executor's parts that need no cluster: the batch job it submits, the records it reads, and how Slurm's
/// states map to sdc's. The executor against a real cluster is Tests/interop/test_slurm.py.
struct SlurmTests {
    /// A claimed job from a real job store.
    func claimedJob() async throws -> ClaimedJob {
        let t = try await WorkerFixture(script: "exit 0\n")
        return try #require(try await t.jobs.claim(workerID: "slurm-test", leaseSeconds: 60))
    }

    @Test func theBatchJobCarriesTheCredentialOnlyInItsEnvironment() async throws {
        let claimed = try await claimedJob()
        var configuration = SlurmConfiguration(partition: "science", sdcExecutable: "/opt/sdc/bin/sdc", pipelineFolder: "/etc/sdc/pipeline")
        configuration.nodeFolder = "/scratch"
        let batch = SlurmBatchJob(claimed: claimed, apiURL: "http://sdc.example:8080", timeoutSeconds: 600, leaseSeconds: 45,
                                  configuration: configuration)
        let id = claimed.job.id
        #expect(batch.arguments == [
            "--parsable", "--job-name=sdc-\(id)-hit-l1a", "--ntasks=1", "--cpus-per-task=1", "--no-requeue", "--time=11",
            "--chdir=/scratch", "--output=/scratch/sdc-job-\(id)-slurm-%j.out",
            "--export=PATH,SDC_ALGORITHMS_DIR,SDC_API_URL,SDC_JOB_CREDENTIAL", "--partition=science",
        ])
        #expect(batch.timeLimitSeconds == 660)
        #expect(batch.environment == ["SDC_API_URL": "http://sdc.example:8080", "SDC_JOB_CREDENTIAL": claimed.credential.secret])
        #expect(!batch.arguments.joined().contains(claimed.credential.secret) && !batch.script.contains(claimed.credential.secret))
        #expect(batch.script.hasPrefix("#!/bin/sh\n"))
        #expect(batch.script.contains("work=$(mktemp -d '/scratch/sdc-job-\(id)-XXXXXX') || exit 1\n"))
        #expect(batch.script.contains("TMPDIR=$work '/opt/sdc/bin/sdc' 'run-job' '--lease-seconds' '45' '--pipeline' '/etc/sdc/pipeline' <<'SDC_JOB'\n"))
        // Without a partition the cluster's default one is used; a timeout under a minute still gets two minutes.
        let plain = SlurmBatchJob(claimed: claimed, apiURL: "http://x", timeoutSeconds: 5, leaseSeconds: 30,
                                  configuration: SlurmConfiguration(sdcExecutable: "/sdc"))
        #expect(!plain.arguments.contains { $0.hasPrefix("--partition") } && plain.arguments.contains("--time=2"))
    }

    @Test func theBatchScriptHandsRunJobTheJobOnItsStandardInput() async throws {
        let claimed = try await claimedJob()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-slurm-script-\(UUID().uuidString)/it's here")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        // A stand-in for sdc that records its arguments, standard input and work folder, and exits 3.
        let stub = folder.appendingPathComponent("sdc stub")
        try """
            #!/bin/sh
            printf '%s\\n' "$@" > "$(dirname "$0")/arguments"
            cat > "$(dirname "$0")/input"
            test -d "$TMPDIR" && printf '%s' "$TMPDIR" > "$(dirname "$0")/work"
            exit 3
            """.write(to: stub, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stub.path)
        var configuration = SlurmConfiguration(sdcExecutable: stub.path, pipelineFolder: folder.path)
        configuration.nodeFolder = folder.path
        let batch = SlurmBatchJob(claimed: claimed, apiURL: "http://x", timeoutSeconds: 60, leaseSeconds: 30, configuration: configuration)
        let script = folder.appendingPathComponent("batch.sh")
        try batch.script.write(to: script, atomically: true, encoding: .utf8)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = [script.path]
        try shell.run()
        shell.waitUntilExit()
        // run-job's exit status is the script's; its work folder was fresh, in the node folder, and is gone.
        #expect(shell.terminationStatus == 3)
        let work = try String(contentsOf: folder.appendingPathComponent("work"), encoding: .utf8)
        #expect(work.hasPrefix(folder.path + "/sdc-job-\(claimed.job.id)-") && !FileManager.default.fileExists(atPath: work))
        let arguments = try String(contentsOf: folder.appendingPathComponent("arguments"), encoding: .utf8)
        #expect(arguments == "run-job\n--lease-seconds\n30\n--pipeline\n\(folder.path)\n")
        let job = try Job(wire: try Data(contentsOf: folder.appendingPathComponent("input")))
        #expect(job == claimed.job)
    }

    @Test(arguments: [
        (SlurmJobState.completed, SlurmVerdict.failed("Slurm job 7 completed, but its sdc run-job recorded no outcome")),
        (.failed, .failed("Slurm job 7 failed (exit 127:0) before its sdc run-job recorded an outcome")),
        (.timeout, .failed("Slurm job 7 reached its time limit")),
        (.outOfMemory, .failed("Slurm job 7 ran out of memory")),
        (.cancelled, .failed("Slurm job 7 was cancelled (scancel)")),
        (.deadline, .failed("Slurm job 7 reached its deadline")),
        (.nodeFail, .interrupted("Slurm job 7's node failed")),
        (.bootFail, .interrupted("Slurm job 7's node failed to boot")),
        (.preempted, .interrupted("Slurm job 7 was preempted")),
    ])
    func anEndedSlurmJobThatRecordedNothingMapsToAnAttempt(state: SlurmJobState, verdict: SlurmVerdict) {
        #expect(state.isFinished)
        #expect(state.verdict(slurmJobID: "7", exitCode: "127:0") == verdict)
    }

    @Test func waitingAndRunningJobsHaveNoVerdictYet() {
        let waiting: [SlurmJobState] = [.pending, .configuring, .requeued, .requeueHold, .suspended, .resizing]
        let running: [SlurmJobState] = [.running, .completing]
        for state in waiting { #expect(state.isWaiting && !state.isRunning && state.verdict(slurmJobID: "1", exitCode: "0:0") == nil) }
        for state in running { #expect(state.isRunning && !state.isWaiting && state.verdict(slurmJobID: "1", exitCode: "0:0") == nil) }
        // Every state is exactly one of waiting, running and finished.
        for state in SlurmJobState.allCases { #expect([state.isWaiting, state.isRunning, state.isFinished].filter { $0 }.count == 1) }
    }

    @Test func recordsParseFromScontrolAndSacct() throws {
        // As slurm-wlm 22.05 prints them.
        let shown = """
            JobId=2 JobName=sdc-3-hit-l1a UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) \
            QOS=(null) JobState=CANCELLED Reason=None Dependency=(null) Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 \
            RunTime=00:00:04 TimeLimit=00:11:00 NodeList=vm WorkDir=/tmp/a folder StdOut=/tmp/sdc-job-3-slurm-2.out Power=

            """
        #expect(SlurmJobRecord(scontrol: shown) == SlurmJobRecord(state: .cancelled, exitCode: "0:15", reason: "None", nodes: "vm"))
        #expect(SlurmJobRecord(scontrol: "JobId=2 JobState=RUNNING Reason=None")?.state == .running)
        #expect(SlurmJobRecord(scontrol: "slurm_load_jobs error: Invalid job id specified") == nil)
        #expect(SlurmJobRecord(sacct: "CANCELLED by 0|0:15|None|node7\n") == SlurmJobRecord(state: .cancelled, exitCode: "0:15", reason: "None", nodes: "node7"))
        #expect(SlurmJobRecord(sacct: "OUT_OF_MEMORY|0:125|OutOfMemory|node7\n")?.state == .outOfMemory)
        #expect(SlurmJobRecord(sacct: "") == nil)
        #expect(SlurmJobRecord(state: .failed, exitCode: "1:0", reason: "NonZeroExitCode", nodes: "vm").summary(slurmJobID: "9")
                == "[slurm] job 9 on vm: FAILED, exit 1:0, reason NonZeroExitCode")
    }

    @Test func sbatchOutputGivesTheJobID() {
        #expect(SlurmBatchJob.submittedID("4242\n") == "4242")
        #expect(SlurmBatchJob.submittedID("4242;cluster-a\n") == "4242")
        #expect(SlurmBatchJob.submittedID("sbatch: error: invalid partition specified: x\n") == nil)
        #expect(SlurmBatchJob.submittedID("") == nil)
    }
}

/// An executor that answers every job with one execution.
struct FixedExecutor: Executor {
    let execution: JobExecution
    func execute(_ claimed: ClaimedJob) async throws -> JobExecution { execution }
}

struct ExecutorOutcomeTests {
    @Test func anInterruptedJobIsHandedBackWithoutCountingTheAttempt() async throws {
        let t = try await WorkerFixture(script: "exit 0\n")
        let worker = Worker(id: "w", jobs: t.jobs, executor: FixedExecutor(execution: .interrupted(reason: "Slurm job 7's node failed", log: "partial\n")),
                            leaseSeconds: 60)
        let job = try #require(try await worker.runNextJob())
        #expect(job.status == .queued && job.attempts == 0 && job.log.contains("partial") && job.log.contains("Slurm job 7's node failed"))
    }

    @Test func aJobThatRecordedItsOwnOutcomeIsLeftAsRecorded() async throws {
        let t = try await WorkerFixture(script: "exit 0\n")
        let claimed = try #require(try await t.jobs.claim(workerID: "slurm", leaseSeconds: 60))
        // What `sdc run-job` does on the node: records the outcome with the job's credential.
        _ = try await t.jobs.complete(claimed.credential, outputs: ["imap/hit/l1a/2025/01/imap_hit_l1a_sci_20250101_v001.0001.cdf"], log: "ran on the node\n")
        let worker = Worker(id: "w", jobs: t.jobs, executor: FixedExecutor(execution: .reported(summary: "Slurm job 7 ended COMPLETED")), leaseSeconds: 60)
        #expect(try await worker.run(claimed) == nil)
        let job = try #require(try await t.jobs.job(id: claimed.job.id))
        #expect(job.status == .succeeded && job.log.hasSuffix("ran on the node\n"))
    }
}

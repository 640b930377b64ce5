import ArgumentParser

/// The `sdc` command: the science data center and its tools.
@main
struct SDC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdc",
        abstract: "A science data center for space missions (IMAP-compatible).",
        subcommands: [
            ServeCommand.self, WorkerCommand.self, RunJobCommand.self, JobsCommand.self, AlgorithmsCommand.self, KeysCommand.self,
            QueryCommand.self, DownloadCommand.self, UploadCommand.self, ReprocessCommand.self,
            NameCommand.self, MissionsCommand.self, PacketsCommand.self, CDFCommand.self,
            AlertsCommand.self,
            VerifyCommand.self, ArchiveCommand.self,
            WatchCommand.self, MirrorCommand.self,
        ]
    )
}

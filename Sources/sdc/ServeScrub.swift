import ArgumentParser
import Logging
import SDCAlerts
import SDCAssembly
import SDCCore
import SDCIntegrity
import SDCPortal
import SDCServer
import ServiceLifecycle

/// The options of the background scrub of `sdc serve`.
struct ScrubOptions: ParsableArguments {
    @Option(help: "Background scrub: re-read every stored object and check it against the catalog once per this period (e.g. 30d, 12h; off: no scrub).")
    var scrubPeriod = "30d"

    @Option(help: "Background scrub: read at most this many bytes per second (e.g. 50MB/s, 1GiB/s).")
    var scrubRate = "50MB/s"

    func validate() throws {
        if scrubPeriod != "off" { _ = try Quantities.duration(scrubPeriod) }
        _ = try Quantities.bytesPerSecond(scrubRate)
    }

    /// The schedule, or nil when the scrub is off.
    func schedule() throws -> ScrubSchedule? {
        guard scrubPeriod != "off" else { return nil }
        return ScrubSchedule(period: try Quantities.duration(scrubPeriod), maximumBytesPerSecond: try Quantities.bytesPerSecond(scrubRate))
    }
}

extension ServeCommand {
    /// The background scrub (unless `--scrub-period off`) and the portal's integrity page, its status exported in
    /// `/metrics` through `metrics` and its problems raised and cleared through `alerts`. Only the replica holding
    /// the scrub lease scrubs.
    func integrity(_ dataCenter: DataCenter, metrics: ServerMetrics, portal: Portal, alerts: any AlertSink) throws
        -> (routes: [any ServerExtension], services: [ServiceGroupConfiguration.ServiceConfiguration]) {
        let exporter = IntegrityMetrics(metrics: metrics)
        let status = IntegrityStatus { exporter.update($0) }
        let routes: [any ServerExtension] = [IntegrityPage(portal: portal, status: status)]
        guard let schedule = try scrub.schedule() else { return (routes, []) }
        let verifier = Verifier(catalog: dataCenter.catalog, digester: ObjectDigester(store: dataCenter.store),
                                concurrency: VerifyCommand.defaultConcurrency(isBucket: dataCenter.bucket != nil))
        let service = ScrubService(verifier: verifier, leases: dataCenter.catalog, schedule: schedule, status: status, alerts: alerts,
                                   logger: Logger(label: "sdc.scrub"), holder: metrics.instance)
        return (routes, [.init(service: service)])
    }
}

import ArgumentParser
import Foundation
import Logging
import SDCAlerts
import SDCAssembly
import SDCCore
import SDCIngest
import SDCPortal
import SDCServer
import ServiceLifecycle

/// `sdc serve --alerts RULES.yaml`.
struct AlertOptions: ParsableArguments {
    @Option(help: "A rules file (YAML) of alert conditions and webhooks, checked at start-up (see contrib/alerts/example.yaml). Without it, product latencies are still recorded and shown.")
    var alerts: String?

    /// What alerting adds to `sdc serve`.
    struct Alerting {
        /// Raise and clear conditions here (the integrity scrub does); with no rules file the conditions are still
        /// recorded and shown, but no webhook is told.
        let sink: any AlertSink
        /// The telemetry and awaited-input checks of new files.
        let listeners: [any IngestListener]
        let services: [ServiceGroupConfiguration.ServiceConfiguration]
        let store: any AlertStore
        let requirement: Int64

        /// The alerts page, served beside `portal`.
        func routes(_ portal: Portal) -> [any ServerExtension] {
            [AlertsPage(portal: portal, store: store, requirement: requirement)]
        }
    }

    /// Reads the rules file (an error names its line) and builds the engine, the ingest listener and the evaluator
    /// over `dataCenter`'s alert store, exporting to `metrics`.
    func alerting(_ dataCenter: DataCenter, metrics: ServerMetrics) throws -> Alerting {
        let rules: AlertRules
        do {
            rules = try alerts.map { try AlertRules(contentsOf: URL(fileURLWithPath: $0)) } ?? AlertRules()
        } catch {
            throw ValidationError("--alerts: \(error)")
        }
        let logger = Logger(label: "sdc.alerts")
        let engine = AlertEngine(store: dataCenter.alerts, logger: logger)
        let observer = AlertMetrics(metrics: metrics)
        let delivery = WebhookDelivery(webhooks: rules.webhooks, source: metrics.instance, logger: logger) { format, delivered in
            observer.notificationSent(format: format, delivered: delivered)
        }
        let listener = AlertIngestChecks(rules: rules, sink: engine, store: dataCenter.alerts, objects: dataCenter.store, logger: logger).listener()
        let evaluator = AlertEvaluator(rules: rules, engine: engine, jobs: dataCenter.jobs, catalog: dataCenter.catalog, leases: dataCenter.catalog,
                                       delivery: delivery, observer: observer, logger: logger)
        if let alerts {
            logger.info("alerts", metadata: ["rules": "\(alerts)", "count": "\(rules.rules.count)", "webhooks": "\(rules.webhooks.count)"])
        }
        return Alerting(sink: engine, listeners: [listener], services: [.init(service: listener), .init(service: evaluator)],
                        store: dataCenter.alerts, requirement: rules.latencyRequirement)
    }
}

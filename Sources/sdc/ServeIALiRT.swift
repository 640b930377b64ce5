import Logging
import SDCAssembly
import SDCCatalog
import SDCIALiRT
import SDCIngest
import SDCPortal
import SDCServer

/// The I-ALiRT part of `sdc serve`: the ingest listener that decodes uploaded I-ALiRT L0 files, the API of
/// ialirt-data-access (with the live packet endpoint) and the portal's live view.
struct IALiRTWiring {
    let ingest: IALiRTIngest
    /// Decodes uploaded I-ALiRT L0 files in the background: an ingest listener, and a service to run.
    let decoder: QueuedIngestListener

    init(dataCenter: DataCenter) {
        ingest = IALiRTIngest(store: dataCenter.ialirt, objects: dataCenter.store, logger: Logger(label: "sdc.ialirt"))
        decoder = ingest.listener()
    }

    /// The API routes and the live page (sharing `portal`'s layout and sign-in).
    func extensions(keys: any APIKeyStore, portal: Portal) -> [any ServerExtension] {
        let store = ingest.store
        return [IALiRTRoutes(ingest: ingest, keys: keys), IALiRTLivePage(portal: portal) { now in
            try await IALiRTLive.quantities(store: store, now: now).map { LiveSeries(name: $0.name, title: $0.title, points: $0.points) }
        }]
    }
}

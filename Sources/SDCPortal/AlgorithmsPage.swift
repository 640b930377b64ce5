import Foundation
import Hummingbird
import NIOCore
import SDCCore
import SDCJobs
import SDCServer

/// The installed algorithms (`sdc algorithms install`) and the products each one makes: `/portal/algorithms` for
/// people, `/portal/algorithms.json` for programs (remote workers read the spec and digest of the algorithm a job runs
/// there). Public, like the dashboard: it lists code, not data.
public struct AlgorithmsPages: ServerExtension {
    let portal: Portal
    let algorithms: any AlgorithmStore
    /// The products the running pipeline configuration makes with each algorithm (a nil version: every version);
    /// nil to show what the registry recorded.
    let configuredProducts: [AlgorithmReference: [ProductNode]]?

    /// Served beside `portal`, whose sign-in state and layout the page shares.
    public init(portal: Portal, algorithms: any AlgorithmStore, configuredProducts: [AlgorithmReference: [ProductNode]]? = nil) {
        self.portal = portal
        self.algorithms = algorithms
        self.configuredProducts = configuredProducts
    }

    /// The installed algorithms, with the products the running configuration makes with each.
    func installed() async throws -> [InstalledAlgorithm] {
        let installed = try await algorithms.algorithms()
        guard let configuredProducts else { return installed }
        return installed.map { algorithm in
            var algorithm = algorithm
            algorithm.products = configuredProducts.filter { $0.key.name == algorithm.name && ($0.key.version ?? algorithm.version) == algorithm.version }
                .values.flatMap { $0 }.sorted()
            return algorithm
        }
    }

    public func addRoutes(to router: Router<SDCRequestContext>) {
        router.get("portal/algorithms") { request, _ in
            try await portal.page(request, title: "Algorithms", body: Self.body(try await installed()))
        }
        router.get("portal/algorithms.json") { _, _ in
            let list = JSONValue.array(try await installed().map(\.wire)).serialized()
            return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: list)))
        }
    }

    static func body(_ algorithms: [InstalledAlgorithm]) -> HTML {
        guard !algorithms.isEmpty else {
            return "<p class=\"muted\" id=\"no-algorithms\">No algorithms are installed. Install one with <code>sdc algorithms install NAME SPEC</code>.</p>"
        }
        let rows = algorithms.map { algorithm -> HTML in
            let products: [HTML] = algorithm.products.map { product in
                let search = URLText.query([("instrument", product.source), ("data_level", product.dataType)]
                                           + (product.descriptor == "all" ? [] : [("descriptor", product.descriptor)]))
                return "<li><a href=\"/portal/search?\(search)\">\(product.source) \(product.dataType) \(product.descriptor)</a></li>"
            }
            let made: HTML = products.isEmpty ? "<span class=\"muted\">none in the running configuration</span>" : "<ul class=\"products\">\(products)</ul>"
            return """
                <tr class="algorithm" id="algorithm-\(algorithm.name)-\(algorithm.version)"><td>\(algorithm.name)</td><td>\(algorithm.version)</td>\
                <td><code title="\(algorithm.digest)">\(String(algorithm.digest.prefix(19)))</code></td><td>\(algorithm.entryPoints.joined(separator: ", "))</td>\
                <td>\(made)</td>\
                <td><code>\(algorithm.spec)</code></td><td>\(algorithm.python)</td><td>\(algorithm.installedAt.iso8601) on \(algorithm.installedOn)</td></tr>
                """
        }
        return """
            <p>Each algorithm runs in its own Python environment, identified by its digest (SHA-256 of the interpreter version and \
            the resolved <code>pip freeze</code>); jobs are deduplicated on their inputs and this digest.</p>
            <table id="algorithms"><thead><tr><th>Name</th><th>Version</th><th>Digest</th><th>Entry points</th><th>Makes</th>\
            <th>Spec</th><th>Python</th><th>Installed</th></tr></thead><tbody>\(rows)</tbody></table>
            """
    }
}

import SDCCatalog
import SDCCore

/// The catalog a verification reads: files of every class, page by page.
public typealias VerifiableCatalog = FileCatalog & CatalogBrowsing

/// Every cataloged file in a scope, a page at a time: each `/query` table (every version, released or not) and, for
/// the whole store, the SPICE kernels.
struct CatalogWalk {
    let catalog: any VerifiableCatalog
    let scope: VerificationScope
    let pageSize: Int
    private var queries: [FileQuery]
    private var offset = 0
    private var kernelsDone: Bool

    init(catalog: any VerifiableCatalog, scope: VerificationScope, pageSize: Int = 2_000) {
        self.catalog = catalog
        self.scope = scope
        self.pageSize = pageSize
        queries = QueryTable.allCases.flatMap { table in
            (scope.instruments.map { $0.map(Optional.some) } ?? [nil]).map { instrument in
                var query = FileQuery(table: table)
                query.instrument = instrument
                query.versions = .all
                query.includeUnreleased = true
                return query
            }
        }
        kernelsDone = scope.instruments != nil
    }

    /// The next page of records; nil after the last.
    mutating func next() async throws(CatalogError) -> [CatalogRecord]? {
        while let query = queries.first {
            let page = try await catalog.page(of: query, order: .filePath, descending: false, offset: offset, limit: pageSize, countLimit: 1)
            if page.records.count < pageSize {
                queries.removeFirst()
                offset = 0
            } else {
                offset += page.records.count
            }
            if !page.records.isEmpty { return page.records }
        }
        if !kernelsDone {
            kernelsDone = true
            let kernels = try await catalog.kernels(matching: SPICEQuery())
            if !kernels.isEmpty { return kernels }
        }
        return nil
    }
}

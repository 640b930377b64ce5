import SDCCore

extension IMAPFileName {
    /// The parsed name of a storage key's basename; ``CatalogError/invalidKey(key:reason:)`` when it is not valid.
    package static func parse(key: String) throws(CatalogError) -> IMAPFileName {
        let basename = String(key.split(separator: "/").last ?? "")
        do { return try IMAPFileName.parse(basename) } catch { throw .invalidKey(key: key, reason: error.message) }
    }
}

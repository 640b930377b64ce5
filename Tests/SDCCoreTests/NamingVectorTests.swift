import Foundation
import Testing
@testable import SDCCore

/// The grammar agrees with imap-data-access 1.3.0 on every name of `naming/imap_names.json`.
struct NamingVectorTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let valid: Bool
        let referenceClass: String?
        let key: String?
        /// The expected fields as canonical JSON (sorted keys).
        let fields: String
        let note: String?
        var testDescription: String { name.debugDescription }
    }

    static let vectors: [Vector] = {
        let data = try! Data(contentsOf: TestData.root.appendingPathComponent("naming/imap_names.json"))
        let array = try! JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        return array.map {
            Vector(name: $0["name"] as! String, valid: $0["valid"] as! Bool, referenceClass: $0["class"] as? String,
                   key: $0["key"] as? String, fields: canonical($0["fields"] ?? [:]), note: $0["note"] as? String)
        }
    }()

    @Test func vectorFileHasAllEntries() {
        #expect(Self.vectors.count == 203)
    }

    @Test(arguments: vectors)
    func agreesWithReferenceValidator(vector: Vector) throws {
        // Deliberate difference (naming.md §7): names ending in a newline are rejected as control characters.
        if vector.name.hasSuffix("\n") {
            #expect(throws: NamingError.self) { try IMAPFileName.parse(vector.name) }
            return
        }
        guard vector.valid else {
            #expect(throws: NamingError.self, "\(vector.note ?? "")") { try IMAPFileName.parse(vector.name) }
            return
        }
        let file = try IMAPFileName.parse(vector.name)
        #expect(file.fileClass.referenceName == vector.referenceClass)
        #expect(file.key == vector.key)
        let ours = try JSONSerialization.jsonObject(with: Data(file.fieldsJSON.serialized().utf8))
        #expect(canonical(ours) == vector.fields)
    }
}

/// JSON with sorted keys, for order-insensitive comparison.
private func canonical(_ object: Any) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

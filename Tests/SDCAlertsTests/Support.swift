import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SDCAlerts
import SDCCDF
import SDCCore
import SDCPostgres
import Synchronization
import Testing

/// A fresh folder, removed afterwards.
func withTemporaryFolder<T>(_ body: (URL) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-alerts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}

/// An alert store of `backend`: SQLite in a temporary folder, or a scratch PostgreSQL database.
func withAlertStore(_ backend: TestBackend, _ body: (any AlertStore) async throws -> Void) async throws {
    switch backend {
    case .sqlite:
        try await withTemporaryFolder { folder in try await body(try SQLiteAlertStore(path: folder.appendingPathComponent("alerts.sqlite").path)) }
    case .postgres:
        let url = try #require(TestBackend.databaseURL)
        let database = try await PostgresDatabase.scratch(from: url)
        do {
            try await body(try await PostgresAlertStore(database: database))
        } catch {
            try? await database.dropScratch()
            throw error
        }
        try await database.dropScratch()
    }
}

/// A clock the tests move.
final class ManualTime: Sendable {
    private let seconds: Mutex<Int64>
    init(_ start: Int64 = 1_750_000_000) { seconds = Mutex(start) }
    var now: UTCTime { UTCTime(secondsSince1970: seconds.withLock { $0 }) }
    func advance(_ by: Int64) { seconds.withLock { $0 += by } }
    func set(_ to: Int64) { seconds.withLock { $0 = to } }
}

/// What a webhook receiver was sent: the path it was posted to and the JSON body.
struct Received: Sendable {
    let path: String
    let body: JSONValue

    func string(_ key: String) -> String? {
        if case .string(let value) = body[key] { return value }
        return nil
    }
}

/// A local HTTP receiver of webhooks on 127.0.0.1: records every POST, answering 500 to the first `failures`.
final class WebhookReceiver: Sendable {
    private let received = Mutex<[Received]>([])
    private let failuresLeft: Mutex<Int>
    private let attempts = Mutex(0)

    init(failures: Int = 0) { failuresLeft = Mutex(failures) }

    var all: [Received] { received.withLock { $0 } }
    var attemptCount: Int { attempts.withLock { $0 } }

    /// Runs `body` with the receiver listening; `body` gets its base URL.
    func serve(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.post("hook/{name}") { request, context -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            self.attempts.withLock { $0 += 1 }
            let fail = self.failuresLeft.withLock { left in
                defer { left = max(0, left - 1) }
                return left > 0
            }
            if fail { return Response(status: .internalServerError) }
            let text = String(buffer: buffer)
            let json = try #require(try? JSONValue(parsing: Array(text.utf8)), "not JSON: \(text)")
            self.received.withLock { $0.append(Received(path: request.uri.path, body: json)) }
            return Response(status: .ok)
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            try await body("http://127.0.0.1:\(port)")
        }
    }
}

/// Polls `condition` every 20 ms until it holds, failing after `seconds`.
func waitUntil(_ what: String, seconds: Double = 20, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out after \(seconds) s waiting for \(what)")
    throw CancellationError()
}

/// Writes a CDF with one scalar record-varying variable per entry of `variables`.
func writeCDF(_ path: URL, variables: [(String, CDFValues, CDFDataType)]) throws {
    let writer = try CDFWriter(path: path.path)
    for (name, values, type) in variables {
        try writer.writeVariable(CDFVariableSpec(name: name, dataType: type), values: values)
    }
    try writer.close()
}

extension Array where Element: Sendable {
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

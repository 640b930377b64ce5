import Logging
import NIOCore
import PostgresNIO
import SDCCatalog
import Synchronization

/// Whether the database answers, checked on a connection of its own (not the pool, whose requests wait for a
/// connection while the server is away) with a bounded connect time. A result is reused for a second, so that the
/// requests failing together during an outage make one check, not one each.
public final class PostgresProbe: BackendProbe {
    private let location: PostgresLocation
    private let logger: Logger
    private let lastCheck = Mutex<(at: ContinuousClock.Instant, reason: String?)?>(nil)
    /// How long a check may take to connect.
    static let connectTimeout = TimeAmount.seconds(2)

    /// A probe of the database at `location`.
    public init(location: PostgresLocation) {
        self.location = location
        logger = Logger(label: "sdc.postgres.probe")
    }

    public func unreachableReason() async -> String? {
        let now = ContinuousClock.now
        if let last = lastCheck.withLock({ $0 }), now - last.at < .seconds(1) { return last.reason }
        let reason = await check()
        lastCheck.withLock { $0 = (now, reason) }
        return reason
    }

    private func check() async -> String? {
        var configuration = location.configuration
        configuration.options.connectTimeout = Self.connectTimeout
        do {
            let connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.next(), configuration: configuration, id: 0, logger: logger).get()
            defer { Task { try? await connection.close() } }
            _ = try await connection.query("SELECT 1", logger: logger).get()
            return nil
        } catch {
            return "\(location): \(PostgresDatabase.reason(error))"
        }
    }
}

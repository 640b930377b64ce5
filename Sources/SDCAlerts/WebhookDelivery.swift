import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import SDCCore

/// The JSON bodies of alert notifications.
public enum AlertPayload {
    /// The body `webhook` is sent for `notification`, from the data center `source` (its name in messages).
    public static func body(_ notification: AlertNotification, format: Webhook.Format, source: String) -> JSONValue {
        switch format {
        case .json: json(notification, source: source)
        case .slack: slack(notification, source: source)
        }
    }

    /// The generic form: every field of the alert.
    ///
    /// `{"status": "firing"|"resolved", "rule", "subject", "severity", "summary", "alert_id", "raised_at",
    /// "resolved_at" (null while firing), "source"}`; times are ISO 8601 UTC.
    public static func json(_ notification: AlertNotification, source: String) -> JSONValue {
        let alert = notification.alert
        return .object([
            ("status", .string(notification.transition.rawValue)),
            ("rule", .string(alert.condition.rule)),
            ("subject", .string(alert.condition.subject)),
            ("severity", .string(alert.condition.severity.rawValue)),
            ("summary", .string(alert.condition.summary)),
            ("alert_id", .int(Int(alert.id))),
            ("raised_at", .string(alert.raisedAt.iso8601)),
            ("resolved_at", .string(notification.transition == .resolved ? (alert.resolvedAt ?? notification.createdAt).iso8601 : nil)),
            ("source", .string(source)),
        ])
    }

    /// Slack's incoming-webhook message: `text` (what a notification shows), and an attachment coloured by severity
    /// (green once resolved) with the rule, subject and times as fields.
    public static func slack(_ notification: AlertNotification, source: String) -> JSONValue {
        let alert = notification.alert
        let resolved = notification.transition == .resolved
        let title = resolved
            ? "RESOLVED \(alert.condition.rule): \(alert.condition.subject)"
            : "\(alert.condition.severity.rawValue.uppercased()) \(alert.condition.rule): \(alert.condition.subject)"
        let color = resolved ? "#2eb67d" : (alert.condition.severity == .critical ? "#e01e5a" : alert.condition.severity == .warning ? "#ecb22e" : "#36c5f0")
        func field(_ title: String, _ value: String) -> JSONValue {
            .object([("title", .string(title)), ("value", .string(value)), ("short", .bool(true))])
        }
        var fields = [field("Rule", alert.condition.rule), field("Severity", alert.condition.severity.rawValue),
                      field("Raised", alert.raisedAt.iso8601)]
        if resolved { fields.append(field("Resolved", (alert.resolvedAt ?? notification.createdAt).iso8601)) }
        return .object([
            ("text", .string("[\(source)] \(title) — \(alert.condition.summary)")),
            ("attachments", .array([.object([
                ("color", .string(color)), ("title", .string(title)), ("text", .string(alert.condition.summary)),
                ("fields", .array(fields)), ("footer", .string(source)),
            ])])),
        ])
    }
}

/// Sends notifications to the webhooks: a JSON `POST` each, retried with doubling waits until the receiver answers
/// 2xx or the webhook's retries are spent.
public struct WebhookDelivery: Sendable {
    let webhooks: [Webhook]
    let client: HTTPClient
    let source: String
    let logger: Logger
    /// Told of each delivery's outcome (`delivered`, `failed`), by format.
    let outcome: @Sendable (Webhook.Format, Bool) -> Void

    public init(webhooks: [Webhook], client: HTTPClient = .shared, source: String, logger: Logger = Logger(label: "sdc.alerts"),
                outcome: @escaping @Sendable (Webhook.Format, Bool) -> Void = { _, _ in }) {
        self.webhooks = webhooks
        self.client = client
        self.source = source
        self.logger = logger
        self.outcome = outcome
    }

    /// Sends `notification` to every webhook (in parallel); returns when each has it or gave up.
    public func deliver(_ notification: AlertNotification) async {
        await withTaskGroup(of: Void.self) { group in
            for webhook in webhooks {
                group.addTask { await send(notification, to: webhook) }
            }
        }
    }

    private func send(_ notification: AlertNotification, to webhook: Webhook) async {
        let body = AlertPayload.body(notification, format: webhook.format, source: source).serialized(pythonStyle: false)
        var wait = webhook.backoff
        for attempt in 0...webhook.retries {
            var request = HTTPClientRequest(url: webhook.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            var problem: String
            do {
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 1 << 16)
                if (200..<300).contains(response.status.code) {
                    outcome(webhook.format, true)
                    return
                }
                problem = "answered \(response.status.code)"
            } catch {
                problem = "\(error)"
            }
            if attempt == webhook.retries || Task.isCancelled {
                logger.error("an alert notification could not be delivered", metadata: [
                    "webhook": "\(webhook.url)", "alert": "\(notification.alert.id)", "attempts": "\(attempt + 1)", "error": "\(problem)"])
                outcome(webhook.format, false)
                return
            }
            logger.warning("retrying an alert notification", metadata: ["webhook": "\(webhook.url)", "error": "\(problem)", "wait": "\(wait)"])
            do { try await Task.sleep(for: wait) } catch { return }
            wait *= 2
        }
    }
}

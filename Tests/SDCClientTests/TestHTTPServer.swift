import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 server on 127.0.0.1 for exercising the client: every request is recorded and answered
/// by a closure.
final class TestHTTPServer: Sendable {
    struct Request: Sendable {
        var method: String
        /// Path and query string as sent.
        var uri: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// Announce the whole body but close the connection after this many bytes of it.
        var dropConnectionAfter: Int?

        static func json(_ text: String, status: Int = 200) -> Reply {
            Reply(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
        }
    }

    let port: Int
    private let channel: any Channel
    private let log: NIOLockedValueBox<[Request]>

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Everything received so far, in order.
    var requests: [Request] { log.withLockedValue { $0 } }

    private init(channel: any Channel, log: NIOLockedValueBox<[Request]>) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.log = log
    }

    static func start(_ respond: @escaping @Sendable (Request) -> Reply) async throws -> TestHTTPServer {
        let log = NIOLockedValueBox<[Request]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(respond: respond, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TestHTTPServer(channel: channel, log: log)
    }

    func stop() async throws {
        try await channel.close()
    }

    /// Runs `body` against a server answering with `respond`, then stops the server.
    static func with<Result>(
        _ respond: @escaping @Sendable (Request) -> Reply, _ body: (TestHTTPServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(respond)
        do {
            let result = try await body(server)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let respond: @Sendable (Request) -> Reply
        private let log: NIOLockedValueBox<[Request]>
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(respond: @escaping @Sendable (Request) -> Reply, log: NIOLockedValueBox<[Request]>) {
            self.respond = respond
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let requestHead):
                head = requestHead
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let head else { return }
                let request = Request(
                    method: head.method.rawValue, uri: head.uri,
                    headers: head.headers.map { ($0.name, $0.value) }, body: body)
                log.withLockedValue { $0.append(request) }
                let reply = respond(request)
                var headers = HTTPHeaders(reply.headers)
                headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.count))
                let status = HTTPResponseStatus(statusCode: reply.status)
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
                if let cut = reply.dropConnectionAfter {
                    context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body.prefix(cut))))), promise: nil)
                    context.close(promise: nil)
                    self.head = nil
                    return
                }
                if head.method != .HEAD, !reply.body.isEmpty {
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil)
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }
    }
}

import NIOCore
import NIOHTTP1
import NIOPosix

/// Plain-HTTP endpoints of the operator process: `/metrics` (Prometheus text format),
/// `/healthz` (the process is alive) and `/readyz` (caches synced). Kubelet probes and
/// Prometheus scrape these.
final class HealthServer: Sendable {
    typealias Route = @Sendable (String) -> (status: HTTPResponseStatus, contentType: String, body: String)

    private let channel: Channel

    /// Binds `host:port` (port 0 picks a free one).
    static func start(host: String, port: Int, route: @escaping Route) async throws -> HealthServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(route: route))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return HealthServer(channel: channel)
    }

    private init(channel: Channel) { self.channel = channel }

    var port: Int { channel.localAddress?.port ?? 0 }

    func stop() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let route: Route

        init(route: @escaping Route) { self.route = route }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(let head) = unwrapInboundIn(data) else { return }
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            let answer = head.method == .GET || head.method == .HEAD ? route(path) : (.methodNotAllowed, "text/plain", "only GET\n")
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: answer.contentType)
            headers.add(name: "Content-Length", value: String(answer.body.utf8.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: answer.status, headers: headers))), promise: nil)
            if head.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: answer.body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

import NIOCore
import NIOHTTP1
import NIOPosix

/// A plain HTTP/1.1 listener that hands each whole request (head and body) to an async
/// handler with the connection's writer, one task per connection and keep-alive honoured.
/// The simulated vLLM server and the operator's activator answer requests this way.
public struct RequestServer: Sendable {
    public typealias Writer = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    public typealias Handler = @Sendable (HTTPRequestHead, ByteBuffer, Writer) async throws -> Void

    /// The listening channel (close it to stop) and the task accepting connections.
    public let channel: any Channel
    public let accepting: Task<Void, Never>

    /// The bound port (useful with port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Binds `host:port` and starts accepting.
    public static func start(host: String, port: Int, handler: @escaping Handler) async throws -> RequestServer {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let accepting = Task<Void, Never> {
            _ = try? await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await serve(connection, handler) }
                    }
                }
            }
        }
        return RequestServer(channel: server.channel, accepting: accepting)
    }

    /// Stops accepting connections; requests in flight finish.
    public func close() async {
        try? await channel.close()
    }

    /// Stops accepting and cancels the requests in flight.
    public func stop() async {
        await close()
        accepting.cancel()
    }

    private static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, _ handler: Handler) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let h):
                    head = h
                    body.clear()
                case .body(var b): body.writeBuffer(&b)
                case .end:
                    guard let h = head else { continue }
                    try await handler(h, body, outbound)
                    if !h.isKeepAlive { return }
                }
            }
        }
    }
}

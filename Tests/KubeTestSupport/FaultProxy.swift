import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A plain-HTTP proxy in front of the HTTPS API server that injects faults: 500s, 429s with
/// Retry-After, 409 conflicts on writes, slow responses, 410 on watches, and watch streams
/// cut mid-way. Faults are chosen by request counters, so a run is reproducible.
public final class FaultProxy: Sendable {
    public struct Plan: Sendable {
        /// Every Nth non-watch request fails with 500 (0: never).
        public var serverErrorEvery = 0
        /// Every Nth non-watch request gets 429 with `Retry-After: 1`.
        public var throttleEvery = 0
        /// Every Nth write (PUT/PATCH/POST) gets 409 Conflict.
        public var conflictEvery = 0
        /// Every Nth request is held this long before forwarding.
        public var slowEvery = 0
        public var slowBy: Duration = .milliseconds(300)
        /// Watch streams are cut after this long (nil: never).
        public var dropWatchesAfter: Duration?
        public init() {}
    }

    public let port: Int
    private let channel: Channel
    private let upstream: HTTPClient
    private let state: Mutex<(plan: Plan, requests: Int, writes: Int, gonePending: Int, goneInStreamPending: Int, injected: [String: Int])>

    public var server: String { "http://127.0.0.1:\(port)" }

    public static func start(upstream server: String, caPEM: [UInt8]?, plan: Plan = Plan()) async throws -> FaultProxy {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caPEM { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(caPEM)) }
        var config = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(5), read: nil))
        config.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let upstream = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        let box = ProxyBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.pipeline.configureHTTPServerPipeline().flatMap { ch.pipeline.addHandler(ProxyHandler(box: box)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = FaultProxy(port: channel.localAddress!.port!, channel: channel, upstream: upstream, target: server, plan: plan)
        box.proxy.withLock { $0 = proxy }
        return proxy
    }

    let target: String

    private init(port: Int, channel: Channel, upstream: HTTPClient, target: String, plan: Plan) {
        self.port = port
        self.channel = channel
        self.upstream = upstream
        self.target = target
        self.state = Mutex((plan, 0, 0, 0, 0, [:]))
    }

    public func setPlan(_ plan: Plan) { state.withLock { $0.plan = plan } }

    /// The next `count` watch requests get 410 Gone.
    public func expireNextWatches(_ count: Int = 1) { state.withLock { $0.gonePending += count } }

    /// The next `count` watch requests are answered 200 with a single `ERROR` event holding a
    /// 410 Status, as the Kubernetes API server reports an expired version inside a watch.
    public func expireNextWatchesInStream(_ count: Int = 1) { state.withLock { $0.goneInStreamPending += count } }

    /// How many of each fault were injected.
    public var injected: [String: Int] { state.withLock { $0.injected } }

    public func stop() async {
        try? await channel.close()
        try? await upstream.shutdown()
    }

    enum Decision {
        case forward(delay: Duration?, dropAfter: Duration?)
        case fail(code: Int, reason: String, retryAfter: Int?)
        case goneInStream
    }

    func decide(method: HTTPMethod, uri: String) -> Decision {
        let isWatch = uri.contains("watch=true") || uri.contains("watch=1")
        return state.withLock { s in
            s.requests += 1
            let n = s.requests
            let p = s.plan
            func count(_ k: String) { s.injected[k, default: 0] += 1 }
            if isWatch {
                if s.goneInStreamPending > 0 {
                    s.goneInStreamPending -= 1
                    count("goneInStream")
                    return .goneInStream
                }
                if s.gonePending > 0 {
                    s.gonePending -= 1
                    count("gone")
                    return .fail(code: 410, reason: "Expired", retryAfter: nil)
                }
                if p.dropWatchesAfter != nil { count("watchDropped") }
                return .forward(delay: nil, dropAfter: p.dropWatchesAfter)
            }
            if [.PUT, .PATCH, .POST].contains(method) {
                s.writes += 1
                if p.conflictEvery > 0, s.writes % p.conflictEvery == 0 {
                    count("conflict")
                    return .fail(code: 409, reason: "Conflict", retryAfter: nil)
                }
            }
            if p.serverErrorEvery > 0, n % p.serverErrorEvery == 0 {
                count("serverError")
                return .fail(code: 500, reason: "InternalError", retryAfter: nil)
            }
            if p.throttleEvery > 0, n % p.throttleEvery == 0 {
                count("throttled")
                return .fail(code: 429, reason: "TooManyRequests", retryAfter: 1)
            }
            if p.slowEvery > 0, n % p.slowEvery == 0 {
                count("slow")
                return .forward(delay: p.slowBy, dropAfter: nil)
            }
            return .forward(delay: nil, dropAfter: nil)
        }
    }

    func handle(head: HTTPRequestHead, body: ByteBuffer?, channel: Channel) async {
        switch decide(method: head.method, uri: head.uri) {
        case .goneInStream:
            let frame = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version","reason":"Expired","code":410}}"# + "\n"
            let headers = HTTPHeaders([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers)), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: frame))), promise: nil)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        case .fail(let code, let reason, let retryAfter):
            let status = #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"injected by the fault proxy","reason":"\#(reason)","code":\#(code)}"#
            var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(status.utf8.count))])
            if let retryAfter { headers.add(name: "Retry-After", value: String(retryAfter)) }
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: .init(statusCode: code), headers: headers)), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: status))), promise: nil)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        case .forward(let delay, let dropAfter):
            if let delay { try? await Task.sleep(for: delay) }
            var request = HTTPClientRequest(url: target + head.uri)
            request.method = head.method
            for (name, value) in head.headers where !["host", "content-length", "connection"].contains(name.lowercased()) {
                request.headers.add(name: name, value: value)
            }
            if let body { request.body = .bytes(body) }
            do {
                let response = try await upstream.execute(request, timeout: .seconds(900))
                var headers = HTTPHeaders()
                for (name, value) in response.headers where !["content-length", "transfer-encoding", "connection"].contains(name.lowercased()) {
                    headers.add(name: name, value: value)
                }
                try await channel.writeAndFlush(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers)))
                let started = ContinuousClock.now
                let cut = Task {
                    guard let dropAfter, (try? await Task.sleep(for: dropAfter)) != nil else { return }
                    try? await channel.close()
                }
                defer { cut.cancel() }
                for try await chunk in response.body {
                    if let dropAfter, ContinuousClock.now - started > dropAfter { break }
                    try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(chunk)))
                }
                try await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
            } catch {
                try? await channel.close()
            }
        }
    }
}

private final class ProxyBox: Sendable {
    let proxy = Mutex<FaultProxy?>(nil)
}

private final class ProxyHandler: ChannelInboundHandler, @unchecked Sendable {
    // Confined to the channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    let box: ProxyBox
    var head: HTTPRequestHead?
    var body: ByteBuffer?

    init(box: ProxyBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = nil
        case .body(var chunk):
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let head, let proxy = box.proxy.withLock({ $0 }) else { return }
            let channel = context.channel
            let body = self.body
            Task { await proxy.handle(head: head, body: body, channel: channel) }
        }
    }
}

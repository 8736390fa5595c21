import Foundation
import KubeModel
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The control plane's HTTPS front door: TLS with the generated serving certificate, bearer
/// token authentication (401 otherwise; health endpoints excepted), impersonation
/// (`Impersonate-*` headers, itself authorised), RBAC authorisation (403), a request body
/// limit (413), discovery, watch streams, and everything else handed to `APIHandler`.
public final class APIServer: Sendable {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var authenticator: Authenticator
        public var maxBodyBytes: Int
        /// Where every request is recorded as an audit event; nil records nothing.
        public var auditLog: AuditLog?

        public init(host: String = "127.0.0.1", port: Int, authenticator: Authenticator, maxBodyBytes: Int = 3 * 1024 * 1024) {
            self.host = host
            self.port = port
            self.authenticator = authenticator
            self.maxBodyBytes = maxBodyBytes
        }
    }

    let handler: APIHandler
    let store: ObjectStore
    let options: Options
    private let group: MultiThreadedEventLoopGroup
    private let channel = Mutex<Channel?>(nil)
    private let sslContext: NIOSSLContext

    public init(handler: APIHandler, store: ObjectStore, certificates: ServingCertificates, options: Options) throws {
        self.handler = handler
        self.store = store
        self.options = options
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificates.certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(certificates.privateKeyPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        sslContext = try NIOSSLContext(configuration: tls)
    }

    /// Binds and starts serving; returns the port (useful with port 0).
    public func start() async throws -> Int {
        let ssl = sslContext
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: ssl))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(server: self))
                }
            }
        let bound = try await bootstrap.bind(host: options.host, port: options.port).get()
        channel.withLock { $0 = bound }
        return bound.localAddress?.port ?? options.port
    }

    public func shutdown() async throws {
        if let c = channel.withLock({ $0 }) { try? await c.close() }
        try await group.shutdownGracefully()
    }

    // MARK: Routing

    enum Reply {
        case full(APIResponse)
        case watch(AsyncStream<StoredEvent>, WatchOptions)
    }

    /// With LLMOPS_TRACE set, every request and its status go to stderr (for debugging clients).
    static let trace = ProcessInfo.processInfo.environment["LLMOPS_TRACE"] != nil

    func route(_ request: APIRequest, authorization: String?, impersonation: Impersonation = Impersonation(), sourceIP: String? = nil) async -> Reply {
        let received = Date()
        var request = request
        let (reply, user, impersonated) = await authenticate(&request, authorization: authorization, impersonation: impersonation)
        if let audit = options.auditLog {
            switch reply {
            case .full(let r):
                audit.record(request, user: user, impersonated: impersonated, code: r.status, stage: "ResponseComplete", received: received, sourceIP: sourceIP)
            case .watch:
                audit.record(request, user: user, impersonated: impersonated, code: 200, stage: "ResponseStarted", received: received, sourceIP: sourceIP)
            }
        }
        if Self.trace {
            var line = "\(request.method) \(request.path) \(request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&"))"
            if case .full(let r) = reply { line += " -> \(r.status)" + (r.status >= 400 ? " \(r.body["message"]?.stringValue ?? "")" : "") }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        return reply
    }

    /// Authenticates, applies impersonation, authorises, then dispatches; returns the reply with
    /// the authenticated user and, when impersonating, the user acted as.
    private func authenticate(_ request: inout APIRequest, authorization: String?, impersonation: Impersonation) async -> (Reply, UserInfo?, UserInfo?) {
        let open = ["/healthz", "/readyz", "/livez"]
        if open.contains(request.path) {
            return (.full(APIResponse(status: 200, body: "ok")), nil, nil)
        }
        guard let authenticated = await options.authenticator.authenticate(authorization) else {
            return (.full(APIError(code: 401, reason: "Unauthorized", message: "Unauthorized").response), nil, nil)
        }
        let authorizer = RBACAuthorizer(store: store)
        var user = authenticated
        var impersonated: UserInfo?
        if !impersonation.isEmpty {
            switch await Self.impersonate(authenticated, impersonation, authorizer) {
            case .failure(let e): return (.full(e.response), authenticated, nil)
            case .success(let u):
                user = u
                impersonated = u
            }
        }
        let attributes = RequestAttributes(request)
        let decision = await authorizer.authorize(user, attributes)
        guard decision.allowed else {
            return (.full(attributes.forbidden(user, reason: decision.reason).response), authenticated, impersonated)
        }
        request.user = user
        return (await dispatch(request), authenticated, impersonated)
    }

    /// The user a request acts as under `Impersonate-*` headers, when the requester may
    /// impersonate each part (verb `impersonate` on users or serviceaccounts, groups, uids,
    /// userextras), as kube-apiserver's impersonation filter decides.
    static func impersonate(_ requester: UserInfo, _ i: Impersonation, _ authorizer: RBACAuthorizer) async -> Result<UserInfo, APIError> {
        guard let username = i.user, !username.isEmpty else {
            return .failure(APIError.badRequest("requested impersonation of groups, uid or extra without impersonating a user; set Impersonate-User"))
        }
        var checks: [RequestAttributes] = []
        if let sa = UserInfo.parseServiceAccount(username) {
            checks.append(RequestAttributes(verb: "impersonate", apiGroup: "", resource: "serviceaccounts", namespace: sa.namespace, name: sa.name))
        } else {
            checks.append(RequestAttributes(verb: "impersonate", apiGroup: "", resource: "users", name: username))
        }
        for g in i.groups { checks.append(RequestAttributes(verb: "impersonate", apiGroup: "", resource: "groups", name: g)) }
        if let uid = i.uid { checks.append(RequestAttributes(verb: "impersonate", apiGroup: "authentication.k8s.io", resource: "uids", name: uid)) }
        for (key, values) in i.extra {
            for v in values { checks.append(RequestAttributes(verb: "impersonate", apiGroup: "authentication.k8s.io", resource: "userextras", subresource: key, name: v)) }
        }
        for check in checks {
            let decision = await authorizer.authorize(requester, check)
            if !decision.allowed { return .failure(check.forbidden(requester, reason: decision.reason)) }
        }
        var user: UserInfo
        if let sa = UserInfo.parseServiceAccount(username), i.groups.isEmpty {
            user = .serviceAccount(namespace: sa.namespace, name: sa.name, uid: i.uid, extra: i.extra)
        } else {
            user = UserInfo(username: username, uid: i.uid, groups: i.groups, extra: i.extra)
        }
        if username != "system:anonymous" && !user.groups.contains(UserInfo.authenticated) { user.groups.append(UserInfo.authenticated) }
        return .success(user)
    }

    private func dispatch(_ request: APIRequest) async -> Reply {
        let served = await handler.servedResources
        switch request.path {
        case "/version": return .full(APIResponse(status: 200, body: Discovery.version()))
        case "/api", "/apis":
            if let version = Discovery.aggregatedVersion(accept: request.accept) {
                var response = APIResponse(status: 200, body: Discovery.aggregated(core: request.path == "/api", version: version, served))
                response.contentType = Discovery.aggregatedContentType(version)
                return .full(response)
            }
            return .full(
                APIResponse(
                    status: 200,
                    body: request.path == "/api" ? Discovery.coreVersions(serverAddress: "\(options.host):\(options.port)") : Discovery.groups(served)))
        case "/openapi/v3": return .full(APIResponse(status: 200, body: OpenAPI.v3Index(served)))
        case "/openapi/v2":
            // client-go asks for protobuf only; JSON clients get Swagger 2.0 as JSON.
            let document = OpenAPI.v2Document(served)
            if let accept = request.accept, accept.contains("protobuf"), !accept.contains("json") {
                var response = APIResponse(status: 200, encodedBody: OpenAPIV2Protobuf.encode(document), summary: "openapi v2 (protobuf)")
                response.contentType = OpenAPIV2Protobuf.contentType
                return .full(response)
            }
            return .full(APIResponse(status: 200, body: document))
        default: break
        }
        if request.path.hasPrefix("/openapi/v3/") {
            let gv = request.path.dropFirst("/openapi/v3/".count).split(separator: "/").map(String.init)
            let document: JSONValue? =
                gv.count == 2 && gv[0] == "api" ? OpenAPI.v3Document(group: "", version: gv[1], served)
                : gv.count == 3 && gv[0] == "apis" ? OpenAPI.v3Document(group: gv[1], version: gv[2], served) : nil
            guard let document else { return .full(APIError(code: 404, reason: "NotFound", message: "no OpenAPI document at \(request.path)").response) }
            return .full(APIResponse(status: 200, body: document))
        }
        let parts = request.path.split(separator: "/").map(String.init)
        if request.method == "GET", parts.count == 2, parts[0] == "api", let list = Discovery.resourceList(group: "", version: parts[1], served) {
            return .full(APIResponse(status: 200, body: list))
        }
        if request.method == "GET", parts.count == 3, parts[0] == "apis", let list = Discovery.resourceList(group: parts[1], version: parts[2], served) {
            return .full(APIResponse(status: 200, body: list))
        }
        if request.method == "GET", ["true", "1"].contains(request.query["watch"] ?? ""), let path = ResourcePath.parse(request.path), path.name == nil,
            let resource = served.first(where: { $0.group == path.group && $0.version == path.version && $0.plural == path.plural })
        {
            let prefix = resource.storePrefix(namespace: path.namespace)
            // Watch-list (client-go's streaming list): the current objects as ADDED events, a
            // bookmark marking their end, then changes from that revision on.
            var initial: [JSONValue]?
            var from: Int64 = 0
            var endMarker = true
            if request.query["sendInitialEvents"] == "true" {
                let (entries, revision) = await store.entries(prefix: prefix)
                initial = entries.map(\.value)
                from = revision
            } else if let rv = request.query["resourceVersion"], !rv.isEmpty, rv != "0" {
                guard let parsed = Int64(rv) else { return .full(APIError.badRequest("resourceVersion must be a decimal string").response) }
                from = parsed
            } else {
                // No resourceVersion (or "0"): kube-apiserver's "get state and start at most
                // recent": every current object as a synthetic ADDED event first, then changes.
                let (entries, revision) = await store.entries(prefix: prefix)
                initial = entries.map(\.value)
                from = revision
                endMarker = false
            }
            do {
                let filter = try APIHandler.filter(request, resource)
                var timeout: Double?
                if let t = request.query["timeoutSeconds"], !t.isEmpty {
                    guard let seconds = Double(t), seconds >= 0 else { return .full(APIError.badRequest("timeoutSeconds must be a non-negative number").response) }
                    timeout = seconds
                }
                let stream = try await store.watch(prefix: prefix, fromRevision: from)
                let bookmarks = ["true", "1"].contains(request.query["allowWatchBookmarks"] ?? "")
                var options = WatchOptions(resource: resource, timeout: timeout, bookmarks: bookmarks, filter: filter)
                if let initial { options.initial = (initial.filter(filter), from) }
                options.initialEndMarker = endMarker
                return .watch(stream, options)
            } catch let e as APIError {
                return .full(e.response)
            } catch let e as StoreError {
                return .full(APIHandler.map(e).response)
            } catch {
                return .full(APIError(code: 500, reason: "InternalError", message: "\(error)").response)
            }
        }
        return .full(await handler.handle(request))
    }
}

/// What a watch request asked for.
struct WatchOptions: Sendable {
    var resource: ServedResource
    var timeout: Double?
    var bookmarks: Bool
    var filter: @Sendable (JSONValue) -> Bool
    /// For watch-list requests: the objects to send first and the revision they were read at.
    var initial: ([JSONValue], Int64)?
    /// Whether the initial events end with the `k8s.io/initial-events-end` bookmark (watch-list
    /// only; a plain watch without a resourceVersion sends the objects alone).
    var initialEndMarker = true
}

/// One connection's HTTP/1.1 exchanges.
final class HTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: APIServer
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    /// A watch stream's flush is queued on the event loop (see `WatchWriter`).
    var flushScheduled = false

    init(server: APIServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            tooLarge = false
            if let length = h.headers.first(name: "content-length").flatMap(Int.init), length > server.options.maxBodyBytes { tooLarge = true }
        case .body(var buffer):
            guard !tooLarge else { return }
            if body.count + buffer.readableBytes > server.options.maxBodyBytes {
                tooLarge = true
                body = []
            } else {
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        case .end:
            guard let head else { return }
            self.head = nil
            if tooLarge {
                let e = APIError(code: 413, reason: "RequestEntityTooLarge", message: "the request body is larger than \(server.options.maxBodyBytes) bytes")
                write(context: context, e.response, keepAlive: false)
                return
            }
            let (path, query) = Self.split(head.uri)
            let request = APIRequest(
                method: head.method.rawValue, path: path, query: query, body: body, contentType: head.headers.first(name: "content-type"),
                accept: head.headers.first(name: "accept"), userAgent: head.headers.first(name: "user-agent"))
            let authorization = head.headers.first(name: "authorization")
            let impersonation = Self.impersonation(head.headers)
            let sourceIP = context.remoteAddress?.ipAddress
            let keepAlive = head.isKeepAlive
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            let server = self.server
            Task {
                let reply = await server.route(request, authorization: authorization, impersonation: impersonation, sourceIP: sourceIP)
                switch reply {
                case .full(let response):
                    loop.execute { bound.value.0.write(context: bound.value.1, response, keepAlive: keepAlive) }
                case .watch(let stream, let options):
                    loop.execute { bound.value.0.startStream(context: bound.value.1) }
                    await Self.pump(stream, options, bound: bound, loop: loop)
                }
            }
        }
    }

    /// `Impersonate-User`, `-Group` (repeated), `-Uid` and `-Extra-KEY` (percent-encoded key).
    static func impersonation(_ headers: HTTPHeaders) -> Impersonation {
        var i = Impersonation()
        for (name, value) in headers {
            let lower = name.lowercased()
            switch lower {
            case "impersonate-user": i.user = value
            case "impersonate-group": i.groups.append(value)
            case "impersonate-uid": i.uid = value
            default:
                if lower.hasPrefix("impersonate-extra-") {
                    let key = String(lower.dropFirst("impersonate-extra-".count))
                    i.extra[key.removingPercentEncoding ?? key, default: []].append(value)
                }
            }
        }
        return i
    }

    static func split(_ uri: String) -> (String, [String: String]) {
        guard let q = uri.firstIndex(of: "?") else { return (uri.removingPercentEncoding ?? uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
            query[key] = value
        }
        let path = String(uri[..<q])
        return (path.removingPercentEncoding ?? path, query)
    }

    func write(context: ChannelHandlerContext, _ response: APIResponse, keepAlive: Bool) {
        let plain = response.status == 200 && response.encodedBody == nil && response.body == "ok"
        let bytes = plain ? Array("ok".utf8) : response.bytes
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: plain ? "text/plain" : response.contentType ?? "application/json")
        // Discovery answers differ by Accept; caches between client and server must know.
        headers.add(name: "Vary", value: "Accept")
        headers.add(name: "Content-Length", value: String(bytes.count))
        for w in response.warnings { headers.add(name: "Warning", value: "299 - \"\(w)\"") }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func startStream(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
    }

    /// Streams watch events as JSON lines until the timeout, the client leaving, or the store
    /// closing the stream (a watcher too far behind), then ends the response.
    static func pump(_ stream: AsyncStream<StoredEvent>, _ options: WatchOptions, bound: NIOLoopBound<(HTTPHandler, ChannelHandlerContext)>, loop: EventLoop) async {
        let deadline = Date().addingTimeInterval(options.timeout ?? 1800)
        let resource = options.resource
        /// Writes one event line; false once the client is gone.
        @Sendable func send(_ event: StoredEvent, initial: Bool = false) async -> Bool {
            let object: JSONValue
            if event.type == .bookmark {
                // The end-of-initial-events marker is always sent; periodic ones when asked for.
                guard options.bookmarks || initial else { return true }
                object = resource.withTypeMeta(
                    event.object["metadata"] != nil ? event.object
                        : .object(JSONObject([("metadata", .object(JSONObject([("resourceVersion", .string(String(event.resourceVersion)))])))])))
            } else {
                guard case .object = event.object, options.filter(event.object) else { return true }
                object = resource.present(event.object)
            }
            var line = JSONText.bytes(.object(JSONObject([("type", .string(event.type.rawValue)), ("object", object)])))
            line.append(0x0A)
            return await writer.send(line)
        }
        let writer = WatchWriter(bound: bound, loop: loop)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                if let (objects, revision) = options.initial {
                    var marker = JSONObject([("resourceVersion", .string(String(revision)))])
                    marker["annotations"] = .object(JSONObject([("k8s.io/initial-events-end", "true")]))
                    let events = objects.map { StoredEvent(type: .added, key: "", object: $0, resourceVersion: revision) }
                        + (options.initialEndMarker ? [StoredEvent(type: .bookmark, key: "", object: .object(JSONObject([("metadata", .object(marker))])), resourceVersion: revision)] : [])
                    for event in events { guard await send(event, initial: true) else { return } }
                }
                for await event in stream { guard await send(event) else { return } }
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(max(0, deadline.timeIntervalSinceNow) * 1e9))
            }
            await group.next()
            group.cancelAll()
        }
        loop.execute {
            let (handler, context) = bound.value
            if context.channel.isActive { context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil) }
        }
    }
}

/// Writes a watch stream's lines without a round trip to the event loop per event: each line is
/// queued on the loop, and one flush follows whatever was queued before it ran, so a burst of
/// changes leaves in a few large writes instead of one system call each. Bytes written but not
/// yet sent are bounded: past `maxPending` the watch waits for the client to read.
final class WatchWriter: Sendable {
    static let maxPending = 8 << 20
    private let bound: NIOLoopBound<(HTTPHandler, ChannelHandlerContext)>
    private let loop: EventLoop
    private let state = Mutex<(pending: Int, closed: Bool)>((0, false))

    init(bound: NIOLoopBound<(HTTPHandler, ChannelHandlerContext)>, loop: EventLoop) {
        self.bound = bound
        self.loop = loop
    }

    /// Queues one line; false once the client is gone (the watch then ends).
    func send(_ line: [UInt8]) async -> Bool {
        while true {
            let (pending, closed) = state.withLock { ($0.pending, $0.closed) }
            if closed || Task.isCancelled { return false }
            if pending < Self.maxPending { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        state.withLock { $0.pending += line.count }
        loop.execute { [self] in
            let (handler, context) = bound.value
            guard context.channel.isActive else {
                state.withLock { $0 = (0, true) }
                return
            }
            let written = loop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in self.state.withLock { $0.pending -= line.count } }
            context.write(handler.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: line)))), promise: written)
            if !handler.flushScheduled {
                handler.flushScheduled = true
                loop.execute {
                    handler.flushScheduled = false
                    context.flush()
                }
            }
        }
        return true
    }
}

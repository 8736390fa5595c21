import AsyncHTTPClient
import Foundation
import KubeModel
import KubeRuntime
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

public struct ActivatorError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Scale from zero, as Knative's activator and KEDA's HTTP interceptor do it: while an
/// LLMDeployment has no ready replica, an EndpointSlice of its Service points at a port of
/// this activator (the LLMDeployment controller writes it), so the first request lands here.
/// The activator counts it as demand (the ScalingPolicy controller reads `demand` and brings
/// a replica back), holds it through the cold start, and forwards it to the first ready Pod,
/// streaming the answer back. Each held LLMDeployment gets its own port: the port, not a
/// header, is all a plain Service client sends that names the target.
public final class Activator: Sendable {
    public struct Target: Hashable, Sendable, CustomStringConvertible {
        public var namespace: String
        public var name: String
        public init(namespace: String, name: String) {
            self.namespace = namespace
            self.name = name
        }
        public var description: String { "\(namespace)/\(name)" }
    }

    /// What the ScalingPolicy controller reads while a target is at zero.
    public struct Demand: Sendable, Equatable {
        /// Requests waiting for a ready replica now.
        public var pending: Int
        /// Arrivals per modelled second over the window asked for.
        public var requestsPerSecond: Double
    }

    private struct Listener {
        var port: Int
        var server: RequestServer
    }

    private struct State {
        var listeners: [Target: Listener] = [:]
        var pending: [Target: Int] = [:]
        var arrivals: [Target: [Double]] = [:]
        var next = 0
    }

    let bindHost: String
    /// The address EndpointSlices name for this activator.
    public let advertiseAddress: String
    let podPort: Int
    /// How long a request may wait for a ready replica (real seconds).
    let timeout: Duration
    let now: @Sendable () -> Double
    let logger: Logger
    private let state = Mutex(State())
    private let readyAddresses = Mutex<(@Sendable (Target) -> [String])?>(nil)
    private let demandHook = Mutex<(@Sendable (Target) -> Void)?>(nil)

    /// Ports to listen on (one per held target); nil picks free ones.
    let ports: ClosedRange<Int>?

    public init(
        bindHost: String, advertiseAddress: String, ports: ClosedRange<Int>? = nil, podPort: Int, timeout: Duration, now: @escaping @Sendable () -> Double,
        logger: Logger
    ) {
        self.ports = ports
        self.bindHost = bindHost
        self.advertiseAddress = advertiseAddress
        self.podPort = podPort
        self.timeout = timeout
        self.now = now
        self.logger = logger
    }

    /// Where to find a target's ready Pods, and whom to tell when a request arrives.
    func connect(readyAddresses: @escaping @Sendable (Target) -> [String], onDemand: @escaping @Sendable (Target) -> Void) {
        self.readyAddresses.withLock { $0 = readyAddresses }
        demandHook.withLock { $0 = onDemand }
    }

    /// The port requests for `target` are held on, listening from now on.
    public func listen(for target: Target) async throws -> Int {
        if let port = state.withLock({ $0.listeners[target]?.port }) { return port }
        let taken = Set(state.withLock { $0.listeners.values.map(\.port) })
        let candidates = ports.map { Array($0).filter { !taken.contains($0) } } ?? [0]
        var bound: RequestServer?
        var lastError: (any Error)?
        for candidate in candidates {
            do {
                bound = try await RequestServer.start(host: bindHost, port: candidate) { head, body, outbound in
                    try await self.hold(head, body, outbound, target)
                }
                break
            } catch {
                lastError = error
            }
        }
        guard let server = bound else {
            throw ActivatorError(message: "no free activator port in \(ports.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "the ephemeral range"): \(lastError.map { "\($0)" } ?? "all taken")")
        }
        let port = server.port
        state.withLock { $0.listeners[target] = Listener(port: port, server: server) }
        logger.info("activator holding requests", metadata: ["target": "\(target)", "address": "\(advertiseAddress):\(port)"])
        return port
    }

    /// Stops holding requests for `target` once none is waiting; those in flight finish.
    public func release(_ target: Target) async {
        let listener: Listener? = state.withLock { s in
            guard (s.pending[target] ?? 0) == 0 else { return nil }
            return s.listeners.removeValue(forKey: target)
        }
        await listener?.server.close()
    }

    /// Requests waiting and the arrival rate over the last `window` modelled seconds; nil
    /// when nothing arrived in that window and nothing waits.
    public func demand(_ target: Target, window: Double) -> Demand? {
        let t = now()
        return state.withLock { s in
            let recent = (s.arrivals[target] ?? []).filter { t - $0 <= window }
            let pending = s.pending[target] ?? 0
            guard pending > 0 || !recent.isEmpty else { return nil }
            return Demand(pending: pending, requestsPerSecond: Double(recent.count) / max(window, 1))
        }
    }

    public func shutdown() async {
        let all = state.withLock { s in defer { s.listeners = [:] }; return Array(s.listeners.values) }
        for l in all { await l.server.close() }
    }

    // MARK: Requests

    /// Holds one request until a replica is ready, then forwards it.
    private func hold(_ head: HTTPRequestHead, _ body: ByteBuffer, _ out: RequestServer.Writer, _ target: Target) async throws {
        let arrived = now()
        state.withLock { s in
            s.pending[target, default: 0] += 1
            var a = s.arrivals[target, default: []]
            a.append(arrived)
            a.removeAll { arrived - $0 > 3600 }
            s.arrivals[target] = a
        }
        demandHook.withLock { $0 }?(target)
        let deadline = ContinuousClock.now + timeout
        var address: String?
        while address == nil && ContinuousClock.now < deadline && !Task.isCancelled {
            let ready = readyAddresses.withLock { $0 }?(target) ?? []
            if !ready.isEmpty {
                address = state.withLock { s in
                    s.next += 1
                    return ready[s.next % ready.count]
                }
            } else {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        state.withLock { $0.pending[target, default: 1] -= 1 }
        guard let address else {
            let message = "no replica of \(target) became ready within \(timeout.components.seconds) s; check the LLMDeployment's conditions and its ScalingPolicy (scaleToZero needs a policy to bring replicas back)"
            try await send(out, head, .serviceUnavailable, Self.error(message, type: "ServiceUnavailable", code: 503))
            return
        }
        var request = HTTPClientRequest(url: "http://\(address):\(podPort)\(head.uri)")
        request.method = HTTPMethod(rawValue: head.method.rawValue)
        for (name, value) in head.headers where !Self.hopByHop.contains(name.lowercased()) { request.headers.add(name: name, value: value) }
        request.body = .bytes(body)
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3600))
            var headers = HTTPHeaders()
            for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) && name.lowercased() != "content-length" {
                headers.add(name: name, value: value)
            }
            headers.add(name: "Transfer-Encoding", value: "chunked")
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            try await out.write(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers)))
            for try await chunk in response.body { try await out.write(.body(.byteBuffer(chunk))) }
            try await out.write(.end(nil))
        } catch {
            try await send(out, head, .badGateway, Self.error("forwarding to \(address) failed: \(error)", type: "BadGateway", code: 502))
        }
    }

    /// An error body in the OpenAI API's shape, as vLLM answers.
    static func error(_ message: String, type: String, code: Int) -> String {
        JSONText.serialize(["error": ["message": .string(message), "type": .string(type), "code": .int(Int64(code))]])
    }

    static let hopByHop: Set<String> = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "host"]

    private func send(_ out: RequestServer.Writer, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: String) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        try await out.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
        try await out.write(.body(.byteBuffer(ByteBuffer(string: body))))
        try await out.write(.end(nil))
    }
}

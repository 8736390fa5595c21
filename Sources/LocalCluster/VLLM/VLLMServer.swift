import Foundation
import KubeRuntime
import KubeModel
import LLMOpsCore
import NIOCore
import NIOHTTP1
import Simulator

/// A simulated vLLM server for one Pod: the simulator's replica model for the Pod's GPU type
/// and tensor-parallel degree, answering the OpenAI-compatible API on `podIP:8000` in (scaled)
/// real time. Latencies in responses and metrics are modelled seconds, so SLOs keep their
/// meaning at any speed-up. Faults for demonstrations come from Pod annotations: a slowdown
/// factor and a share of requests that fail.
actor VLLMServer {
    struct Faults: Sendable, Equatable {
        var slowdown = 1.0
        var errorRate = 0.0
        var metricsDown = false
        static let slowdownAnnotation = "sim.llmops.io/slowdown"
        static let errorRateAnnotation = "sim.llmops.io/error-rate"
        /// "true": `/metrics` answers 503, as when an exporter or the metrics path breaks.
        static let metricsDownAnnotation = "sim.llmops.io/metrics-down"

        init(annotations: [String: String]) {
            metricsDown = annotations[Self.metricsDownAnnotation] == "true"
            slowdown = annotations[Self.slowdownAnnotation].flatMap(Double.init).map { min(max($0, 0.01), 1000) } ?? 1
            errorRate = annotations[Self.errorRateAnnotation].flatMap(Double.init).map { min(max($0, 0), 1) } ?? 0
        }
    }

    let model: ServedModel
    let clock: SimulationClock
    private let engine: ServingEngine
    private let start = Date()
    private var metrics: VLLMMetrics
    private var faults: Faults
    /// Engine time advances at 1/slowdown of model time; these anchor the current rate.
    private var anchor = (model: 0.0, engine: 0.0)
    private var subscribers: [Int: AsyncStream<ServingEngine.Progress>.Continuation] = [:]
    /// What each subscriber was last told, so a tick wakes only requests that moved.
    private var told: [Int: ServingEngine.Progress] = [:]
    private var ticker: Task<Void, Never>?
    private var server: RequestServer?
    private(set) var inFlight = 0

    init(model: ServedModel, gpu: GPUSpecs, clock: SimulationClock, faults: Faults) {
        self.model = model
        self.clock = clock
        self.faults = faults
        engine = ServingEngine(model: ReplicaModel(model: model.profile, gpu: gpu, tensorParallel: max(1, model.tensorParallel)))
        metrics = VLLMMetrics(modelName: model.name)
    }

    func setFaults(_ f: Faults) {
        guard f != faults else { return }
        let now = modelNow()
        anchor = (now, engineTime(now))
        faults = f
    }

    private func modelNow() -> Double { clock.modelSeconds(since: start) }
    private func engineTime(_ m: Double) -> Double { anchor.engine + (m - anchor.model) / faults.slowdown }

    /// Starts listening on `host:port`.
    func listen(host: String, port: Int) async throws {
        server = try await RequestServer.start(host: host, port: port) { head, body, outbound in
            try await self.route(head, Array(body.readableBytesView), ResponseWriter(outbound: outbound, version: head.version, keepAlive: head.isKeepAlive))
        }
    }

    func stop() async {
        await server?.stop()
        ticker?.cancel()
        for (_, c) in subscribers { c.finish() }
        subscribers = [:]
        told = [:]
    }

    private func route(_ head: HTTPRequestHead, _ body: [UInt8], _ out: ResponseWriter) async throws {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        switch (head.method, path) {
        case (.GET, "/health"), (.GET, "/ping"): try await out.send(.ok, "text/plain", "")
        case (.GET, "/metrics") where faults.metricsDown:
            try await out.send(.serviceUnavailable, "text/plain", "metrics unavailable (\(Faults.metricsDownAnnotation))\n")
        case (.GET, "/metrics"):
            let text = metrics.render(running: engine.running, waiting: engine.waiting, kvUsage: engine.kvCacheUsage)
            try await out.send(.ok, "text/plain; version=0.0.4; charset=utf-8", text)
        case (.GET, "/v1/models"):
            let created = Int64(start.timeIntervalSince1970)
            let doc: JSONValue = [
                "object": "list",
                "data": [[
                    "id": .string(model.name), "object": "model", "created": .int(created), "owned_by": "vllm", "root": .string(model.name),
                    "max_model_len": .int(Int64(model.contextLength)),
                ]],
            ]
            try await out.send(.ok, "application/json", JSONText.serialize(doc))
        case (.POST, "/v1/completions"), (.POST, "/v1/chat/completions"):
            try await complete(chat: path.hasSuffix("chat/completions"), body, out)
        case (_, "/health"), (_, "/metrics"), (_, "/v1/models"), (_, "/v1/completions"), (_, "/v1/chat/completions"):
            try await out.send(.methodNotAllowed, "application/json", #"{"detail":"Method Not Allowed"}"#)
        default:
            try await out.send(.notFound, "application/json", #"{"detail":"Not Found"}"#)
        }
    }

    /// Tokens in a text, by the common four-characters-per-token estimate.
    static func tokens(_ text: String) -> Int { max(1, (text.utf8.count + 3) / 4) }

    private func complete(chat: Bool, _ body: [UInt8], _ out: ResponseWriter) async throws {
        let request: JSONValue
        do { request = try JSONText.parse(body) } catch {
            return try await out.send(.badRequest, "application/json", Self.error("request body is not valid JSON: \(error)", code: 400))
        }
        let promptTokens: Int
        if chat {
            guard let messages = request["messages"]?.arrayValue, !messages.isEmpty else {
                return try await out.send(.badRequest, "application/json", Self.error("messages: field required", code: 400))
            }
            promptTokens = messages.reduce(0) { $0 + Self.tokens($1["content"]?.stringValue ?? "") + 4 }
        } else {
            if let p = request["prompt"]?.stringValue {
                promptTokens = Self.tokens(p)
            } else if let ids = request["prompt"]?.arrayValue, !ids.isEmpty {
                promptTokens = ids.first?.stringValue.map(Self.tokens) ?? ids.count
            } else {
                return try await out.send(.badRequest, "application/json", Self.error("prompt: field required", code: 400))
            }
        }
        if let name = request["model"]?.stringValue, name != model.name {
            return try await out.send(.notFound, "application/json", Self.error("The model `\(name)` does not exist.", code: 404, type: "NotFoundError"))
        }
        let maxTokens = Int(request["max_tokens"]?.intValue ?? request["max_completion_tokens"]?.intValue ?? 16)
        guard maxTokens >= 1 else { return try await out.send(.badRequest, "application/json", Self.error("max_tokens must be at least 1", code: 400)) }
        if promptTokens + maxTokens > model.contextLength {
            return try await out.send(
                .badRequest, "application/json",
                Self.error("This model's maximum context length is \(model.contextLength) tokens. However, you requested \(promptTokens + maxTokens) tokens (\(promptTokens) in the messages, \(maxTokens) in the completion).", code: 400))
        }
        if faults.errorRate > 0 && Double.random(in: 0..<1) < faults.errorRate {
            metrics.aborted()
            return try await out.send(.internalServerError, "application/json", Self.error("simulated failure (\(Faults.errorRateAnnotation))", code: 500, type: "InternalServerError"))
        }
        let arrivalModel = modelNow()
        let arrival = engineTime(arrivalModel)
        guard let id = engine.submit(inputTokens: promptTokens, outputTokens: maxTokens, at: arrival) else {
            return try await out.send(.badRequest, "application/json", Self.error("the request does not fit the KV cache", code: 400))
        }
        inFlight += 1
        defer { inFlight -= 1 }
        let stream = AsyncStream<ServingEngine.Progress> { subscribers[id] = $0 }
        startTicker()
        let streaming = request["stream"]?.boolValue ?? false
        let requestID = (chat ? "chatcmpl-" : "cmpl-") + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let created = Int64(Date().timeIntervalSince1970)
        if streaming { try await out.startStream() }
        var sent = 0
        var last: ServingEngine.Progress?
        for await p in stream {
            last = p
            if streaming && p.generated > sent {
                let text = String(repeating: " tok", count: p.generated - sent)
                sent = p.generated
                let choice: JSONValue = chat
                    ? ["index": 0, "delta": ["role": "assistant", "content": .string(text)], "finish_reason": p.finish == nil ? .null : "length"]
                    : ["index": 0, "text": .string(text), "finish_reason": p.finish == nil ? .null : "length"]
                let chunk: JSONValue = ["id": .string(requestID), "object": chat ? "chat.completion.chunk" : "text_completion", "created": .int(created), "model": .string(model.name), "choices": [choice]]
                try await out.chunk("data: \(JSONText.serialize(chunk))\n\n")
            }
            if p.finish != nil { break }
        }
        guard let done = last, let first = done.firstToken, let finish = done.finish else {
            if streaming { try? await out.endStream() }
            return
        }
        let s = faults.slowdown
        let ttft = (first - arrival) * s
        let e2e = (finish - arrival) * s
        let tpot = maxTokens > 1 ? (finish - first) * s / Double(maxTokens - 1) : nil
        metrics.finished(ttft: ttft, tpot: tpot, e2e: e2e, prompt: promptTokens, output: maxTokens, reason: "length")
        let usage: JSONValue = ["prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(maxTokens)), "total_tokens": .int(Int64(promptTokens + maxTokens))]
        if streaming {
            try await out.chunk("data: [DONE]\n\n")
            try await out.endStream()
            return
        }
        let text = String(repeating: " tok", count: maxTokens)
        let choice: JSONValue = chat
            ? ["index": 0, "message": ["role": "assistant", "content": .string(text)], "finish_reason": "length"]
            : ["index": 0, "text": .string(text), "finish_reason": "length", "logprobs": .null]
        let response: JSONValue = [
            "id": .string(requestID), "object": chat ? "chat.completion" : "text_completion", "created": .int(created), "model": .string(model.name),
            "choices": [choice], "usage": usage,
            // Not part of vLLM's answer: the modelled latencies, for load generators and tests.
            "llmops_timing": ["ttft_seconds": .double(ttft), "e2e_seconds": .double(e2e), "tpot_seconds": tpot.map(JSONValue.double) ?? .null],
        ]
        try await out.send(.ok, "application/json", JSONText.serialize(response))
    }

    static func error(_ message: String, code: Int, type: String = "BadRequestError") -> String {
        JSONText.serialize(["object": "error", "message": .string(message), "type": .string(type), "param": .null, "code": .int(Int64(code))])
    }

    /// Advances the engine every few milliseconds while requests are in flight and tells each
    /// request where it stands.
    private func startTicker() {
        guard ticker == nil else { return }
        ticker = Task { [clock] in
            while !Task.isCancelled {
                try? await Task.sleep(for: clock.scaled(seconds: 0.01, minimum: 0.005))
                if await self.tick() { break }
            }
        }
    }

    /// One step of the ticker; true when nothing is left in flight.
    private func tick() -> Bool {
        engine.advance(to: engineTime(modelNow()))
        for (id, c) in subscribers {
            guard let p = engine.progress(id), p != told[id] else { continue }
            told[id] = p
            c.yield(p)
            if p.finish != nil {
                c.finish()
                subscribers[id] = nil
                told[id] = nil
            }
        }
        if subscribers.isEmpty {
            engine.compactIfIdle()
            ticker = nil
            return true
        }
        return false
    }
}

/// Writes one HTTP response, whole or as a chunked event stream.
struct ResponseWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    let version: HTTPVersion
    let keepAlive: Bool

    func send(_ status: HTTPResponseStatus, _ contentType: String, _ body: String) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: version, status: status, headers: headers)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
        try await outbound.write(.end(nil))
    }

    func startStream() async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        try await outbound.write(.head(HTTPResponseHead(version: version, status: .ok, headers: headers)))
    }

    func chunk(_ text: String) async throws { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text)))) }
    func endStream() async throws { try await outbound.write(.end(nil)) }
}

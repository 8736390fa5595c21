import ArgumentParser
import AsyncHTTPClient
import Foundation
import KubeClient
import KubeModel
import NIOCore
import Simulator
import Synchronization

/// `llmops load`: replays a trace against a Service's ready endpoints, as traffic would arrive.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Replay a request trace against a Service's ready vLLM endpoints.",
        discussion: """
            Reads the trace formats `llmops simulate` reads (Azure CSV, JSON lines). Endpoints come \
            from the Service's EndpointSlices and are refreshed every second, so replicas that \
            scale in or out get or lose traffic as they become ready or leave. Each request asks \
            for its trace's output length with streaming on; time to first token and \
            inter-token latency are measured at the client. Results derived from the Azure traces \
            are under CC-BY 4.0 (Patel et al., Splitwise, ISCA 2024).
            """)

    @Option(help: "Trace file (Azure LLM inference CSV or JSON lines).")
    var trace: String

    @Option(help: "Target Service as NAMESPACE/NAME.")
    var service: String

    @Option(help: "Replay speed: 2 sends the trace twice as fast.")
    var speed = 1.0

    @Option(help: "The cluster's --time-scale: latencies are reported in modelled seconds (wall time × this).")
    var timeScale = 1.0

    @Option(help: "Stop after this many requests.")
    var limit: Int?

    @Option(help: "Stop at this many seconds into the trace.")
    var duration: Double?

    @Option(help: "Path to a kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "Write the summary as JSON to this file.")
    var json: String?

    func validate() throws {
        guard speed > 0, speed.isFinite else { throw ValidationError("--speed must be a positive number") }
        guard timeScale > 0, timeScale.isFinite else { throw ValidationError("--time-scale must be a positive number") }
        guard service.split(separator: "/").count == 2 else { throw ValidationError("--service must be NAMESPACE/NAME, not \"\(service)\"") }
    }

    func run() async throws {
        var requests: [TraceRequest]
        do { requests = try TraceReader.read(path: trace) } catch {
            printError("load: \(trace): \(error)")
            throw ExitCode(2)
        }
        if let duration { requests = requests.filter { $0.arrival <= duration } }
        if let limit { requests = Array(requests.prefix(limit)) }
        guard !requests.isEmpty else {
            printError("load: no requests to send")
            throw ExitCode(1)
        }
        let parts = service.split(separator: "/").map(String.init)
        let client = try KubeClient(try ClientConfiguration.load(kubeconfig: kubeconfig))
        let runner = LoadRunner(client: client, namespace: parts[0], service: parts[1], speed: speed, timeScale: timeScale)
        let summary = await runner.run(requests)
        print(summary.text)
        if let json { try summary.json.write(toFile: json, atomically: true, encoding: .utf8) }
        await client.shutdown()
        if summary.completed == 0 { throw ExitCode(1) }
    }
}

/// Sends a trace's requests at their arrival times and measures each at the client.
final class LoadRunner: Sendable {
    struct Result: Sendable {
        var ttft: Double?
        var itl: Double?
        var error: String?
    }

    struct Summary {
        var sent: Int
        var completed: Int
        var errors: [String: Int]
        var ttft: [Double]
        var itl: [Double]
        var wallSeconds: Double

        static func pct(_ xs: [Double], _ q: Double) -> Double? {
            guard !xs.isEmpty else { return nil }
            let s = xs.sorted()
            return s[min(s.count - 1, Int((Double(s.count - 1) * q).rounded()))]
        }

        var text: String {
            func ms(_ v: Double?) -> String { v.map { String(format: "%.0f ms", $0 * 1000) } ?? "-" }
            var lines = [
                "requests: \(sent) sent, \(completed) completed, \(errors.values.reduce(0, +)) failed, in \(String(format: "%.1f", wallSeconds)) s",
                "TTFT  p50 \(ms(Self.pct(ttft, 0.5)))  p95 \(ms(Self.pct(ttft, 0.95)))  p99 \(ms(Self.pct(ttft, 0.99)))",
                "ITL   p50 \(ms(Self.pct(itl, 0.5)))  p95 \(ms(Self.pct(itl, 0.95)))  p99 \(ms(Self.pct(itl, 0.99)))",
            ]
            for (k, v) in errors.sorted(by: { $0.value > $1.value }) { lines.append("error x\(v): \(k)") }
            return lines.joined(separator: "\n")
        }

        var json: String {
            let doc: JSONValue = [
                "sent": .int(Int64(sent)), "completed": .int(Int64(completed)), "failed": .int(Int64(errors.values.reduce(0, +))),
                "ttftSeconds": ["p50": Self.pct(ttft, 0.5).map(JSONValue.double) ?? .null, "p95": Self.pct(ttft, 0.95).map(JSONValue.double) ?? .null, "p99": Self.pct(ttft, 0.99).map(JSONValue.double) ?? .null],
                "itlSeconds": ["p50": Self.pct(itl, 0.5).map(JSONValue.double) ?? .null, "p95": Self.pct(itl, 0.95).map(JSONValue.double) ?? .null, "p99": Self.pct(itl, 0.99).map(JSONValue.double) ?? .null],
                "wallSeconds": .double(wallSeconds),
            ]
            return JSONText.serialize(doc, pretty: true) + "\n"
        }
    }

    let client: KubeClient
    let namespace: String
    let service: String
    let speed: Double
    let timeScale: Double
    /// Traffic is open-loop: every request gets its own connection when needed, as independent
    /// users would, rather than waiting for one of a few pooled ones.
    let http = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(
            timeout: .init(connect: .seconds(10), read: .seconds(600)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 4096)))
    private let endpoints = Mutex<[String]>([])
    private let cursor = Mutex(0)
    private let counters = Mutex<(sent: Int, done: Int, failed: Int)>((0, 0, 0))

    init(client: KubeClient, namespace: String, service: String, speed: Double, timeScale: Double) {
        self.client = client
        self.namespace = namespace
        self.service = service
        self.speed = speed
        self.timeScale = timeScale
    }

    /// Ready addresses of the Service, from its EndpointSlices.
    func refreshEndpoints() async {
        guard let slices = try? await client.list(EndpointSlice.self, namespace: namespace, options: .init(labelSelector: "kubernetes.io/service-name=\(service)")) else { return }
        var out: [String] = []
        for s in slices.items {
            let port = s.ports?.first(where: { $0.name == "http" })?.port ?? s.ports?.first?.port ?? 8000
            for e in s.endpoints ?? [] where e.conditions?.ready ?? true {
                for a in e.addresses { out.append("http://\(a):\(port)") }
            }
        }
        endpoints.withLock { $0 = out.sorted() }
    }

    func next() -> String? {
        let list = endpoints.withLock { $0 }
        guard !list.isEmpty else { return nil }
        return cursor.withLock { c in
            defer { c &+= 1 }
            return list[c % list.count]
        }
    }

    func run(_ requests: [TraceRequest]) async -> Summary {
        await refreshEndpoints()
        let start = ContinuousClock.now
        let origin = requests.first!.arrival
        let stop = Mutex(false)
        let refresher = Task {
            while !stop.withLock({ $0 }) {
                try? await Task.sleep(for: .seconds(1))
                await refreshEndpoints()
                let c = counters.withLock { $0 }
                let elapsed = (ContinuousClock.now - start)
                let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                FileHandle.standardError.write(Data(String(format: "\r[%6.1f s] sent %d  done %d  failed %d  in flight %d  endpoints %d   ", secs, c.sent, c.done, c.failed, c.sent - c.done - c.failed, endpoints.withLock { $0.count }).utf8))
            }
        }
        let results = await withTaskGroup(of: Result.self) { group in
            for r in requests {
                let due = start + .milliseconds(Int64((r.arrival - origin) / speed * 1000))
                try? await Task.sleep(until: due, clock: .continuous)
                counters.withLock { $0.sent += 1 }
                group.addTask { await self.send(r) }
            }
            var out: [Result] = []
            for await r in group { out.append(r) }
            return out
        }
        stop.withLock { $0 = true }
        refresher.cancel()
        FileHandle.standardError.write(Data("\n".utf8))
        try? await http.shutdown()
        let wall = ContinuousClock.now - start
        var errors: [String: Int] = [:]
        for r in results { if let e = r.error { errors[e, default: 0] += 1 } }
        return Summary(
            sent: results.count, completed: results.filter { $0.error == nil }.count, errors: errors, ttft: results.compactMap(\.ttft), itl: results.compactMap(\.itl),
            wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18)
    }

    func send(_ r: TraceRequest) async -> Result {
        guard let base = next() else {
            counters.withLock { $0.failed += 1 }
            return Result(error: "no ready endpoints for \(namespace)/\(service)")
        }
        var request = HTTPClientRequest(url: base + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        // About four characters per token, the estimate servers and the simulator use.
        let prompt = String(repeating: "abcd", count: max(1, r.inputTokens))
        let body: JSONValue = ["prompt": .string(prompt), "max_tokens": .int(Int64(max(1, r.outputTokens))), "stream": true]
        request.body = .bytes(ByteBuffer(string: JSONText.serialize(body)))
        let sent = ContinuousClock.now
        do {
            let response = try await http.execute(request, timeout: .seconds(600))
            guard response.status == .ok else {
                _ = try? await response.body.collect(upTo: 1 << 20)
                counters.withLock { $0.failed += 1 }
                return Result(error: "HTTP \(response.status.code) from \(base)")
            }
            var first: ContinuousClock.Instant?
            for try await chunk in response.body where chunk.readableBytes > 0 {
                if first == nil { first = ContinuousClock.now }
            }
            let end = ContinuousClock.now
            counters.withLock { $0.done += 1 }
            func seconds(_ d: Duration) -> Double { (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) * timeScale }
            let ttft = first.map { seconds($0 - sent) }
            let itl = first.flatMap { f in r.outputTokens > 1 ? seconds(end - f) / Double(r.outputTokens - 1) : nil }
            return Result(ttft: ttft, itl: itl)
        } catch {
            counters.withLock { $0.failed += 1 }
            return Result(error: "\(error)")
        }
    }
}

import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import LLMOpsCore
import Logging
import Synchronization

/// The kubelets of all simulated nodes: each Pod bound to one of them gets a Pod IP, goes
/// Pending → Running, and becomes Ready once its containers have started. A vLLM container
/// (recognised by image or command) takes the modelled start-up time — weights over storage
/// plus engine start — and then serves as `VLLMServer` on `podIP:port`; a container of the
/// llmops image runs as a real process of this binary (`Kubelet+Process`); other containers
/// are ready after a second. Deletion honours the grace period: the Pod stops being Ready, its
/// requests in flight finish (up to the grace period), then the kubelet removes it. A failed
/// node's Pods stop serving.
final class Kubelet: Sendable {
    struct Runtime: Sendable {
        var uid: String
        var ip: String
        var server: VLLMServer?
        var startedAt: Date
        var startup: Duration
        var ready = false
        var problem: (reason: String, message: String)?
        /// Set for a container run as a process (`Kubelet+Process`).
        var runsProcess = false
        var process: ProcessContainer?
        var restarts = 0
        var lastTerminated: JSONValue?
        var backoffUntil: Date?
        var tokenRefreshAt: Date?
    }

    let client: KubeClient
    let nodes: [String: SimulatedNode]
    let pods: ObjectCache<Pod>
    let nodeCache: ObjectCache<Node>
    let clock: SimulationClock
    let events: EventRecorder
    let logger: Logger
    let addresses = PodAddresses()
    let runtimes = Mutex<[ObjectKey: Runtime]>([:])
    /// Without these, llmops-image Pods are simulated like any other container.
    let processes: ProcessSettings?

    init(
        client: KubeClient, nodes: [SimulatedNode], pods: ObjectCache<Pod>, nodeCache: ObjectCache<Node>, clock: SimulationClock, events: EventRecorder, logger: Logger,
        processes: ProcessSettings? = nil
    ) {
        self.processes = processes
        if let processes { Self.reapLeftovers(processes) }
        self.client = client
        self.nodes = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
        self.pods = pods
        self.nodeCache = nodeCache
        self.clock = clock
        self.events = events
        self.logger = logger
    }

    /// Every Pod a kubelet of ours runs, for mapping Node events to Pods.
    func podsOn(_ node: String) -> [ReconcileRequest] {
        pods.list().filter { $0.spec?["nodeName"]?.stringValue == node }.map { ReconcileRequest($0.metadata) }
    }

    func stopAll() async {
        let all = runtimes.withLock { r in defer { r = [:] }; return r }
        for (_, rt) in all {
            await rt.server?.stop()
            await rt.process?.terminate(grace: .seconds(5))
        }
    }

    func reconcile(_ key: ReconcileRequest) async throws -> ReconcileResult {
        guard let pod = pods.get(key) else {
            await stop(key)
            return .done
        }
        guard let nodeName = pod.spec?["nodeName"]?.stringValue, let node = nodes[nodeName] else { return .done }
        if let rt = runtimes.withLock({ $0[key] }), rt.uid != pod.metadata.uid { await stop(key) }
        if nodeCache.get(namespace: nil, name: nodeName)?.metadata.annotations?[SimulatedNode.failureAnnotation] == "true" {
            // The machine is down: nothing runs, nothing reports.
            await stop(key, release: false)
            return .done
        }
        if pod.metadata.deletionTimestamp != nil { return try await terminate(pod, key) }
        if pod.status?.phase == "Succeeded" || pod.status?.phase == "Failed" { return .done }
        guard var rt = runtimes.withLock({ $0[key] }) else {
            return try await startContainers(pod, key, node)
        }
        if rt.runsProcess, let settings = processes { return try await supervise(pod, key, node, settings) }
        if let server = rt.server { await server.setFaults(VLLMServer.Faults(annotations: pod.metadata.annotations ?? [:])) }
        if rt.ready || rt.problem != nil { return .done }
        let elapsed = Duration.seconds(Date().timeIntervalSince(rt.startedAt))
        if elapsed < rt.startup { return .requeueAfter(rt.startup - elapsed) }
        if let server = rt.server {
            do {
                try await server.listen(host: rt.ip, port: Self.port(pod))
            } catch {
                rt.problem = ("Error", "the server could not listen on \(rt.ip):\(Self.port(pod)): \(error)")
                runtimes.withLock { $0[key] = rt }
                try await writeStatus(pod, rt, node: node)
                return .done
            }
        }
        rt.ready = true
        runtimes.withLock { $0[key] = rt }
        try await writeStatus(pod, rt, node: node)
        return .done
    }

    static func port(_ pod: Pod) -> Int {
        let c = pod.spec?["containers"]?.arrayValue?.first
        let args = (c?["command"]?.arrayValue ?? []) + (c?["args"]?.arrayValue ?? [])
        let strings = args.compactMap(\.stringValue)
        for (i, a) in strings.enumerated() {
            if a == "--port", i + 1 < strings.count, let p = Int(strings[i + 1]) { return p }
            if a.hasPrefix("--port="), let p = Int(a.dropFirst(7)) { return p }
        }
        return 8000
    }

    private func startContainers(_ pod: Pod, _ key: ObjectKey, _ node: SimulatedNode) async throws -> ReconcileResult {
        let existingIP = pod.status?.podIP
        if let existingIP { addresses.claim(existingIP) }
        guard let ip = existingIP ?? addresses.allocate() else {
            throw KubeletError("no free Pod IP left in 127.10.0.0/12")
        }
        let container = pod.spec?["containers"]?.arrayValue?.first
        let image = container?["image"]?.stringValue ?? ""
        let command = ((container?["command"]?.arrayValue ?? []) + (container?["args"]?.arrayValue ?? [])).compactMap(\.stringValue)
        var rt = Runtime(uid: pod.metadata.uid ?? "", ip: ip, server: nil, startedAt: Date(), startup: clock.scaled(seconds: 1))
        if let settings = processes, ProcessContainer.isLLMOps(image: image) {
            rt.runsProcess = true
            runtimes.withLock { $0[key] = rt }
            return try await supervise(pod, key, node, settings)
        }
        if ServedModel.isVLLM(image: image, command: command) {
            let gpus = Int(PodRequirements(spec: pod.spec).requests["nvidia.com/gpu"] ?? 0)
            let model = ServedModel(args: command, annotations: pod.metadata.annotations ?? [:], gpus: gpus)
            if let type = node.gpuType, let gpu = GPUCatalog.standard[type], gpus > 0 {
                let replica = ReplicaModel(model: model.profile, gpu: gpu, tensorParallel: max(1, model.tensorParallel))
                if let why = replica.infeasibility {
                    rt.problem = ("CrashLoopBackOff", "vLLM exited: \(why) (torch.OutOfMemoryError: CUDA out of memory)")
                } else if model.tensorParallel > gpus {
                    rt.problem = ("CrashLoopBackOff", "vLLM exited: --tensor-parallel-size \(model.tensorParallel) needs \(model.tensorParallel) GPUs, the container has \(gpus)")
                } else {
                    rt.server = VLLMServer(model: model, gpu: gpu, clock: clock, faults: .init(annotations: pod.metadata.annotations ?? [:]))
                    rt.startup = clock.scaled(seconds: model.coldStartSeconds)
                }
            } else {
                rt.problem = ("CrashLoopBackOff", "vLLM exited: no CUDA GPUs are available (request nvidia.com/gpu; node \(node.name) has \(node.gpus))")
            }
        }
        runtimes.withLock { $0[key] = rt }
        if existingIP == nil || pod.status?.phase != "Running" {
            await events.record(pod, reason: "Started", message: "Started container \(container?["name"]?.stringValue ?? "main") on \(node.name) (\(ip))")
        }
        try await writeStatus(pod, rt, node: node)
        if let p = rt.problem { await events.record(pod, type: .warning, reason: "BackOff", message: p.message) }
        return rt.problem == nil ? .requeueAfter(rt.startup) : .done
    }

    private func terminate(_ pod: Pod, _ key: ObjectKey) async throws -> ReconcileResult {
        var rt = runtimes.withLock { $0[key] }
        if var r = rt, r.ready, let node = nodes[pod.spec?["nodeName"]?.stringValue ?? ""] {
            // Not Ready from now on, so endpoints drop the Pod before it goes.
            r.ready = false
            r.problem = nil
            runtimes.withLock { $0[key] = r }
            rt = r
            try? await writeStatus(pod, r, node: node)
        }
        let deadline = pod.metadata.deletionTimestamp.map { Date(timeIntervalSince1970: TimeInterval($0.secondsSinceEpoch)) } ?? Date()
        let graceSeconds = Double(pod.metadata.deletionGracePeriodSeconds ?? 0)
        let started = deadline.addingTimeInterval(-graceSeconds)
        // The grace period runs in modelled time.
        let realDeadline = started.addingTimeInterval(graceSeconds / clock.speedup)
        if let server = rt?.server, await server.inFlight > 0, Date() < realDeadline {
            return .requeueAfter(clock.scaled(seconds: 0.5, minimum: 0.02))
        }
        if let process = rt?.process {
            await process.terminate(grace: .milliseconds(Int64(max(realDeadline.timeIntervalSinceNow, 1) * 1000)))
        }
        await stop(key)
        do {
            try await client.delete(Pod.self, name: key.name, namespace: key.namespace, options: .init(preconditionUID: pod.metadata.uid, gracePeriodSeconds: 0))
        } catch let e as KubeAPIError where e.isNotFound || e.isConflict {}
        return .done
    }

    private func stop(_ key: ObjectKey, release: Bool = true) async {
        guard let rt = runtimes.withLock({ $0.removeValue(forKey: key) }) else { return }
        await rt.server?.stop()
        await rt.process?.terminate(grace: .seconds(2))
        if release { addresses.release(rt.ip) }
    }

    func writeStatus(_ pod: Pod, _ rt: Runtime, node: SimulatedNode) async throws {
        let now = Timestamp.now().rfc3339
        let started = Timestamp(secondsSinceEpoch: Int64(rt.startedAt.timeIntervalSince1970)).rfc3339
        let key = ObjectKey(pod.metadata)
        _ = try await client.updateStatus(Pod.self, name: key.name, namespace: key.namespace) { p in
            var s = p.status ?? Pod.Status()
            let wasRunning = s.containerStatuses?.first?["state"]?["running"] != nil
            let previousRestarts = s.containerStatuses?.first?["restartCount"]?.intValue ?? 0
            let previousStart = s.containerStatuses?.first?["state"]?["running"]?["startedAt"]?.stringValue
            // A container that was running under an earlier kubelet process restarted.
            let restarts = rt.runsProcess ? Int64(rt.restarts) : previousRestarts + (wasRunning && previousStart != nil && previousStart != started ? 1 : 0)
            s.phase = "Running"
            s.podIP = rt.ip
            s.hostIP = "127.0.0.1"
            if s.startTime == nil { s.startTime = Timestamp(secondsSinceEpoch: Int64(rt.startedAt.timeIntervalSince1970)) }
            let ready = rt.ready && rt.problem == nil
            func condition(_ type: String, _ ok: Bool) -> JSONValue {
                let old = (s.conditions ?? []).first { $0["type"]?.stringValue == type }
                let status = ok ? "True" : "False"
                let transition = old?["status"]?.stringValue == status ? (old?["lastTransitionTime"] ?? .string(now)) : .string(now)
                return ["type": .string(type), "status": .string(status), "lastProbeTime": .null, "lastTransitionTime": transition]
            }
            s.conditions = [
                condition("PodReadyToStartContainers", true), condition("Initialized", true), condition("Ready", ready),
                condition("ContainersReady", ready), condition("PodScheduled", true),
            ]
            s.containerStatuses = (p.spec?["containers"]?.arrayValue ?? []).enumerated().map { i, c in
                let state: JSONValue
                if let problem = rt.problem {
                    state = ["waiting": ["reason": .string(problem.reason), "message": .string(problem.message)]]
                } else {
                    state = ["running": ["startedAt": .string(started)]]
                }
                return [
                    "name": c["name"] ?? "main", "image": c["image"] ?? "", "imageID": .string("sim://\(c["image"]?.stringValue ?? "")"),
                    "containerID": .string("sim://\(rt.uid.prefix(8))-\(i)"), "ready": .bool(ready), "started": .bool(rt.problem == nil),
                    "restartCount": .int(i == 0 ? restarts : 0), "state": state, "lastState": i == 0 ? (rt.lastTerminated ?? [:]) : [:],
                ]
            }
            p.status = s
        }
    }
}

struct KubeletError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

import LLMOpsCore
import KubeModel
import LLMOpsAPI


/// Builds random resources that satisfy the schema. With `full`, every optional field is set,
/// which is what the schema-drift test needs; otherwise each is present at random.
struct RandomResources {
    var rng: SeededGenerator
    let full: Bool

    init(seed: UInt64, full: Bool = false) {
        rng = SeededGenerator(seed: seed)
        self.full = full
    }

    mutating func maybe<T>(_ make: (inout RandomResources) -> T) -> T? {
        if full || Bool.random(using: &rng) { return make(&self) }
        return nil
    }

    mutating func int32(_ r: ClosedRange<Int32>) -> Int32 { Int32.random(in: r, using: &rng) }
    mutating func double(_ r: ClosedRange<Double>) -> Double {
        // Values with few binary digits, so text round trips are exact.
        let v = (Double.random(in: r, using: &rng) * 1024).rounded() / 1024
        return min(max(v, r.lowerBound), r.upperBound)
    }
    mutating func pick<T>(_ xs: [T]) -> T { xs.randomElement(using: &rng)! }
    mutating func name() -> String {
        pick(["llama", "mistral-7b", "a", "qwen2-5.coder", "x1"]) + "-" + String(Int.random(in: 0...999, using: &rng))
    }
    /// Free text, including strings YAML would misread unless quoted.
    mutating func text() -> String {
        pick(["yes", "no", "null", "123", "1.5", "a: b", "#x", "- y", "ok", "multi\nline", "ünï", "", " pad ", "true"])
    }
    mutating func time() -> Timestamp { Timestamp(secondsSinceEpoch: Int64.random(in: 0...4_000_000_000, using: &rng)) }
    mutating func stringMap() -> [String: String] {
        var m: [String: String] = [:]
        for i in 0..<Int.random(in: 1...3, using: &rng) { m["k\(i)"] = text() }
        return m
    }

    mutating func metadata() -> ObjectMeta {
        var m = ObjectMeta(name: name(), namespace: pick(["default", "inference", "team-a"]))
        m.labels = maybe { r in ["app.kubernetes.io/name": r.name()] }
        m.annotations = maybe { r in r.stringMap() }
        return m
    }

    mutating func conditions() -> [Condition] {
        ["Ready", "Progressing", "Degraded"].prefix(Int.random(in: 1...3, using: &rng)).map { t in
            Condition(
                type: t, status: pick(Condition.Status.allCases), observedGeneration: Int64(int32(0...100)), lastTransitionTime: time(),
                reason: pick(["SLOMet", "Scaling", "NoCapacity"]), message: text())
        }
    }

    mutating func decision() -> DecisionRecord {
        DecisionRecord(time: time(), action: pick(["ScaleUp 2->4", "ChooseGPU L40S x1"]), reason: text(), inputs: maybe { r in r.stringMap() })
    }

    mutating func llmDeployment() -> LLMDeployment {
        var model = ModelSpec(
            name: "org/" + name(), source: "hf://org/" + name(), parameterCount: pick(["8B", "70B", "1.5B", "350M", "1T"]),
            precision: pick(Precision.allCases), contextLength: int32(128...131_072))
        model.revision = maybe { r in r.name() }
        model.architecture = maybe { r in
            let heads = r.pick([Int32(8), 32, 64])
            return ModelArchitecture(layers: r.int32(1...120), hiddenSize: heads * r.int32(8...128), attentionHeads: heads, kvHeads: r.pick([1, 8, heads]))
        }
        let engine = EngineSpec(kind: pick(EngineKind.allCases), image: maybe { r in "vllm/vllm-openai:v0.\(r.int32(1...9))" }, args: maybe { r in [r.text()] })
        let slo = SLOSpec(ttftP95Ms: int32(1...600_000), itlP95Ms: int32(1...60_000), attainment: double(0.5...0.9999))
        let types = Array(Set((0..<Int.random(in: 1...4, using: &rng)).map { _ in pick(GPUType.allCases) })).sorted { $0.rawValue < $1.rawValue }
        let gpu = GPUSpec(
            allowedTypes: types, tensorParallel: pick([.auto, .degree(1), .degree(2), .degree(4), .degree(8)]),
            maxCostPerHour: maybe { r in r.double(0...500) }, allowMixed: Bool.random(using: &rng))
        let spec = LLMDeploymentSpec(
            model: model, engine: engine, slo: slo, gpu: gpu, replicas: int32(0...1000), scalingPolicyRef: maybe { r in LocalObjectReference(name: r.name()) },
            expectedLoad: maybe { r in
                ExpectedLoadSpec(
                    requestsPerSecond: r.double(0.001...10_000), meanInputTokens: r.int32(1...200_000), meanOutputTokens: r.int32(1...32_000),
                    requestsPerGroup: r.maybe { r in r.double(1...64) })
            })
        let status: LLMDeploymentStatus? = maybe { r in
            var s = LLMDeploymentStatus()
            s.observedGeneration = r.maybe { r in Int64(r.int32(0...1000)) }
            s.conditions = r.maybe { r in r.conditions() }
            s.replicas = r.maybe { r in r.int32(0...50) }
            s.readyReplicas = r.maybe { r in r.int32(0...50) }
            s.selector = r.maybe { r in "app=" + r.name() }
            s.gpuType = r.maybe { r in r.pick(GPUType.allCases).rawValue }
            s.tensorParallel = r.maybe { r in r.pick([1, 2, 4, 8]) }
            s.placement = r.maybe { r in
                [ReplicaPlacement(replica: r.name(), node: "node-\(r.int32(0...99))", gpuType: "L40S", gpus: [0, 1])]
            }
            s.costPerHour = r.maybe { r in r.double(0...1000) }
            s.capacity = r.maybe { r in
                EstimatedCapacity(requestsPerSecond: r.double(0...100), outputTokensPerSecond: r.double(0...10_000), maxConcurrentSequences: r.int32(0...4096))
            }
            s.lastDecision = r.maybe { r in r.decision() }
            return s
        }
        return LLMDeployment(metadata: metadata(), spec: spec, status: status)
    }

    mutating func behavior() -> ScalingBehavior {
        ScalingBehavior(stabilizationWindowSeconds: int32(0...3600), maxStep: int32(1...1000), periodSeconds: int32(1...3600), cooldownSeconds: int32(0...3600))
    }

    mutating func scalingPolicy() -> ScalingPolicy {
        let minR = int32(0...500)
        var targets = MetricTargets(
            queueDepthPerReplica: maybe { r in r.int32(1...10_000) }, kvCacheUtilization: maybe { r in r.double(0.05...1) },
            ttftP95Ms: maybe { r in r.int32(1...600_000) })
        if targets == MetricTargets() { targets.queueDepthPerReplica = 4 }
        let spec = ScalingPolicySpec(
            targetRef: LocalObjectReference(name: name()), minReplicas: minR, maxReplicas: int32(max(1, minR)...1000), mode: pick(ScalingMode.allCases),
            targets: targets, scaleUp: behavior(), scaleDown: behavior(),
            forecast: ForecastSpec(horizonSeconds: int32(30...86_400), forecaster: pick(ForecasterKind.allCases), seasonSeconds: int32(60...604_800)),
            scaleToZero: ScaleToZeroSpec(enabled: Bool.random(using: &rng), idleSeconds: int32(60...86_400)))
        let status: ScalingPolicyStatus? = maybe { r in
            var s = ScalingPolicyStatus()
            s.observedGeneration = r.maybe { r in Int64(r.int32(0...1000)) }
            s.conditions = r.maybe { r in r.conditions() }
            s.currentLoad = r.maybe { r in
                LoadSnapshot(
                    requestsPerSecond: r.double(0...100), inputTokensPerSecond: r.maybe { r in r.double(0...1e5) },
                    outputTokensPerSecond: r.maybe { r in r.double(0...1e4) }, queueDepth: r.maybe { r in r.double(0...100) },
                    kvCacheUtilization: r.maybe { r in r.double(0...1) }, observedAt: r.maybe { r in r.time() })
            }
            s.forecastLoad = r.maybe { r in LoadForecast(requestsPerSecond: r.double(0...100), horizonSeconds: r.int32(0...3600), forecaster: "holtWinters") }
            s.recommendedReplicas = r.maybe { r in r.int32(0...100) }
            s.lastScaleTime = r.maybe { r in r.time() }
            s.history = r.maybe { r in
                (0..<Int.random(in: 1...5, using: &r.rng)).map { _ in
                    ScalingEvent(time: r.time(), fromReplicas: r.int32(0...9), toReplicas: r.int32(0...9), reason: r.text())
                }
            }
            s.burstReserve = r.maybe { r in
                BurstReserveStatus(
                    factor: r.double(1...10), ceilingRequestsPerSecond: r.maybe { r in r.double(0...500) }, historySeconds: Int64(r.int32(0...3600)),
                    source: Bool.random(using: &r.rng) ? "observed" : "prometheus")
            }
            return s
        }
        return ScalingPolicy(metadata: metadata(), spec: spec, status: status)
    }

    mutating func canaryRun() -> CanaryRun {
        var revision = RevisionSpec(image: maybe { r in "vllm/vllm-openai:v0.\(r.int32(1...9))" }, modelRevision: maybe { r in r.name() }, args: maybe { r in [r.text()] })
        if revision == RevisionSpec() { revision.image = "vllm/vllm-openai:v0.9.0" }
        let steps: [CanaryStep]? = maybe { r in
            (0..<Int.random(in: 1...5, using: &r.rng)).map { _ in CanaryStep(weight: r.int32(1...100), durationSeconds: r.int32(0...86_400), minSamples: r.int32(10...100_000)) }
        }
        let metrics = Array(Set((0..<Int.random(in: 1...3, using: &rng)).map { _ in pick(CanaryMetric.allCases) })).sorted { $0.rawValue < $1.rawValue }
        let spec = CanaryRunSpec(
            targetRef: LocalObjectReference(name: name()), revision: revision, strategy: pick(RolloutStrategy.allCases), steps: steps,
            analysis: AnalysisSpec(
                metrics: metrics, test: pick(CanaryTest.allCases), confidence: double(0.8...0.9999), maxRegression: double(0...1),
                intervalSeconds: int32(10...3600)),
            rollback: RollbackSpec(automatic: Bool.random(using: &rng)),
            approval: ApprovalSpec(required: Bool.random(using: &rng), approved: Bool.random(using: &rng)),
            trafficRouting: maybe { r in TrafficRoutingSpec(gatewayAPI: r.maybe { r in GatewayAPIRouting(httpRoute: r.name()) }) })
        let status: CanaryRunStatus? = maybe { r in
            var s = CanaryRunStatus()
            s.observedGeneration = r.maybe { r in Int64(r.int32(0...1000)) }
            s.phase = r.maybe { r in r.pick(CanaryPhase.allCases) }
            s.strategy = r.maybe { r in r.pick(["canary", "blueGreen", "rolling"]) }
            s.strategyReason = r.maybe { r in r.text() }
            s.currentStep = r.maybe { r in r.int32(0...19) }
            s.currentWeight = r.maybe { r in r.int32(0...100) }
            s.message = r.maybe { r in r.text() }
            s.conditions = r.maybe { r in r.conditions() }
            s.startTime = r.maybe { r in r.time() }
            s.endTime = r.maybe { r in r.time() }
            s.steps = r.maybe { r in
                var step = StepResult(step: r.int32(0...19), weight: r.int32(0...100))
                step.startedAt = r.maybe { r in r.time() }
                step.finishedAt = r.maybe { r in r.time() }
                step.durationSeconds = r.maybe { r in r.int32(0...86_400) }
                step.verdict = r.maybe { r in r.pick(["continue", "promote", "rollback"]) }
                step.analyses = r.maybe { r in
                    var a = MetricAnalysis(metric: "ttft", test: "sequential", baselineSamples: Int64(r.int32(0...100_000)), canarySamples: Int64(r.int32(0...100_000)), verdict: "pass")
                    a.baselineMedian = r.maybe { r in r.double(0...5000) }
                    a.canaryMedian = r.maybe { r in r.double(0...5000) }
                    a.effectSize = r.maybe { r in r.double(-1...1) }
                    a.pValue = r.maybe { r in r.double(0...1) }
                    return [a]
                }
                return [step]
            }
            return s
        }
        return CanaryRun(metadata: metadata(), spec: spec, status: status)
    }
}

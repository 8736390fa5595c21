import Foundation
import KubeModel
import LLMOpsAPI
import LLMOpsCore
import Testing

@testable import Controllers

@Suite struct PrometheusTextTests {
    let text = """
        # HELP vllm:num_requests_running Number of requests currently running on GPU.
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{model_name="m"} 3.0
        vllm:request_success_total{finished_reason="length",model_name="m"} 10
        vllm:request_success_total{finished_reason="abort",model_name="m \\"quoted\\""} 2
        vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 2
        vllm:time_to_first_token_seconds_bucket{le="0.5",model_name="m"} 6
        vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="m"} 8
        up 1 1700000000000
        broken line
        """

    @Test func parsesSamplesAndLabels() {
        let s = PrometheusText.parse(text)
        #expect(s.count == 7)
        #expect(s.first { $0.name == "vllm:num_requests_running" }?.value == 3)
        #expect(s.contains { $0.labels["model_name"] == "m \"quoted\"" && $0.value == 2 })
        #expect(s.first { $0.name == "up" }?.value == 1)
    }

    @Test func histogramQuantileInterpolatesWithinTheBucket() throws {
        let h = try #require(CumulativeHistogram.from(PrometheusText.parse(text), name: "vllm:time_to_first_token_seconds"))
        #expect(h.count == 8)
        // Rank 4 of 8 falls in (0.1, 0.5] holding observations 3..6: halfway.
        #expect(abs(h.quantile(0.5)! - 0.3) < 1e-9)
        // The top bucket is unbounded: the quantile is its lower edge, as PromQL answers.
        #expect(h.quantile(0.99) == 0.5)
        let later = CumulativeHistogram(buckets: [(0.1, 4), (0.5, 10), (.infinity, 12)])
        #expect(later.minus(h)?.count == 4)
        #expect(h.minus(later) == nil, "a counter that went down is a reset")
    }

    @Test func pseudoSamplesReproduceTheBuckets() {
        let h = CumulativeHistogram(buckets: [(0.1, 10), (0.5, 30), (1.0, 40), (.infinity, 40)])
        let s = h.pseudoSamples()
        #expect(s.count == 40)
        #expect(s.filter { $0 <= 0.1 }.count == 10 && s.filter { $0 > 0.1 && $0 <= 0.5 }.count == 20 && s.filter { $0 > 0.5 }.count == 10)
    }

    @Test func armWindowsSubtractPerPodAndSurviveRestarts() {
        var start = ArmReading()
        start.pods["a"] = .init(success: 10, aborted: 1, ttft: nil, tpot: nil)
        start.pods["b"] = .init(success: 50, aborted: 0, ttft: nil, tpot: nil)
        var now = ArmReading()
        now.pods["a"] = .init(success: 25, aborted: 3, ttft: nil, tpot: nil)
        now.pods["b"] = .init(success: 5, aborted: 0, ttft: nil, tpot: nil)  // restarted
        now.pods["c"] = .init(success: 7, aborted: 1, ttft: nil, tpot: nil)  // new
        let w = now.since(start)
        #expect(w.requests == 15 + 5 + 7)
        #expect(w.errors == 2 + 0 + 1)
    }
}

@Suite struct PodMetricsScraperTests {
    func text(_ successes: Int) -> String {
        "vllm:request_success_total{finished_reason=\"stop\",model_name=\"m\"} \(successes)\nvllm:num_requests_waiting{model_name=\"m\"} 2\n"
    }

    @Test func ratesOfOneDeploymentSurviveScrapesOfAnother() async {
        let scraper = PodMetricsScraper()
        // Two deployments reconciled in turn, as a busy operator does.
        #expect(await scraper.record("ns/a", texts: [("a1", text(10))], asked: ["a1"], now: 0) == nil, "no rate from one sample")
        #expect(await scraper.record("ns/b", texts: [("b1", text(5))], asked: ["b1"], now: 1) == nil)
        let a = await scraper.record("ns/a", texts: [("a1", text(30))], asked: ["a1"], now: 10)
        let b = await scraper.record("ns/b", texts: [("b1", text(25))], asked: ["b1"], now: 11)
        #expect(a?.requestsPerSecond == 2)
        #expect(b?.requestsPerSecond == 2)
        #expect(a?.queueDepth == 2 && a?.podsScraped == 1 && a?.podsAsked == 1)
        // The rate was counted over the ten seconds between the scrapes: the burst reserve
        // takes that window's counting noise out.
        #expect(a?.rateWindowSeconds == 10)
        await scraper.shutdown()
    }

    @Test func aPodThatLeftIsForgottenAndARestartIsNoRate() async {
        let scraper = PodMetricsScraper()
        _ = await scraper.record("ns/a", texts: [("p1", text(100)), ("p2", text(50))], asked: ["p1", "p2"], now: 0)
        // p2 restarted (its counter went down): p1 alone gives the rate.
        let s = await scraper.record("ns/a", texts: [("p1", text(110)), ("p2", text(3))], asked: ["p1", "p2"], now: 10)
        #expect(s?.requestsPerSecond == 1)
        // p1 went away and came back under the same uid: its old sample was dropped, no rate.
        _ = await scraper.record("ns/a", texts: [("p2", text(13))], asked: ["p2"], now: 20)
        let again = await scraper.record("ns/a", texts: [("p1", text(500))], asked: ["p1"], now: 30)
        #expect(again == nil)
        await scraper.shutdown()
    }
}

@Suite struct PrometheusHistoryTests {
    /// The rebuilt history covers every Pod the LLMDeployment has had, gone ones included,
    /// and no Pod of another LLMDeployment whose name extends this one's.
    @Test func podPatternTakesInPastPodsAndNoOtherDeployment() throws {
        let pattern = PrometheusMetricsSource.podPattern(deployment: "chat.v1", gpuTypes: ["H100", "A100-80GB"])
        // As Prometheus reads it: the string's escapes undone, the regex anchored.
        let regex = try NSRegularExpression(pattern: "^(?:" + pattern.replacingOccurrences(of: "\\\\", with: "\\") + ")$")
        func matches(_ name: String) -> Bool { regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil }
        #expect(matches("chat.v1-h100-7d9f8c6b5-x2k4q"))
        #expect(matches("chat.v1-a100-80gb-5c4b7d-9zzpt"))
        #expect(!matches("chat.v1-v2-h100-7d9f8c6b5-x2k4q"))
        #expect(!matches("chatxv1-h100-7d9f8c6b5-x2k4q"), "the dot is a literal")
        #expect(!matches("chat.v1-l40s-7d9f8c6b5-x2k4q"), "only the GPU types asked for")
        // Inside a PromQL double-quoted string the regex escape is itself escaped.
        #expect(pattern.hasPrefix("chat\\\\.v1-"))
    }
}

@Suite struct ServingDecisionTests {
    func spec(replicas: Int32 = 3, allowed: [GPUType] = [.l40s, .h100], maxCost: Double? = nil, parameters: String = "8B") -> LLMDeploymentSpec {
        LLMDeploymentSpec(
            model: ModelSpec(name: "m", source: "hf://org/m", parameterCount: parameters), slo: SLOSpec(ttftP95Ms: 800, itlP95Ms: 60),
            gpu: GPUSpec(allowedTypes: allowed, maxCostPerHour: maxCost), replicas: replicas)
    }

    @Test func theChoiceDoesNotDependOnTheReplicaCount() throws {
        let a = try ServingDecision.decide(spec(replicas: 1), catalog: .standard).get()
        let b = try ServingDecision.decide(spec(replicas: 9), catalog: .standard).get()
        #expect(a.summary == b.summary)
        #expect(a.replicas == 1 && b.replicas == 9)
    }

    @Test func theCostCeilingCapsReplicas() throws {
        let free = try ServingDecision.decide(spec(replicas: 10), catalog: .standard).get()
        let perReplica = free.costPerHour / 10
        let capped = try ServingDecision.decide(spec(replicas: 10, maxCost: perReplica * 4.5), catalog: .standard).get()
        #expect(capped.replicas == 4 && capped.cappedAt == 4)
        #expect(capped.costPerHour <= perReplica * 4.5)
    }

    /// The capacity the ScalingPolicy controller sizes with follows the measured request mix:
    /// long prompts carry fewer requests per replica than the design's chat shape.
    @Test func measuredMixSetsTheSizingLoad() throws {
        let d = try ServingDecision.decide(spec(allowed: [.l40s]), catalog: .standard).get()
        #expect(ScalingPolicyController.sizingLoad(design: d.design, input: nil, output: nil, context: 8192) == d.design)
        #expect(ScalingPolicyController.sizingLoad(design: d.design, input: 1024.2, output: 255.9, context: 8192) == d.design)
        let long = ScalingPolicyController.sizingLoad(design: d.design, input: 6000, output: 100, context: 8192)
        #expect(long.meanInputTokens == 6000 && long.inputTailTokens == 8192)
        let r = ReplicaModel(model: d.model, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: d.groups[0].tensorParallel)
        let slo = ServingDecision.latencySLO(SLOSpec(ttftP95Ms: 800, itlP95Ms: 60))
        #expect(r.maxRate(for: long, slo: slo) < r.maxRate(for: d.design, slo: slo) / 2)
        // One period of unusual requests moves the running mean a fifth of the way.
        #expect(ScalingPolicyController.smooth(1000, 2000) == 1200)
        #expect(ScalingPolicyController.smooth(nil, 700) == 700)
        #expect(ScalingPolicyController.smooth(1000, .nan) == 1000)
    }

    /// Traffic unlike the design load is flagged with the configuration it would choose, the
    /// saving, and the spec.expectedLoad that adopts it; traffic like it is not.
    @Test func observedTrafficReviewsTheGPUChoice() throws {
        var s = spec(allowed: [.l4, .l40s, .h100])
        s.slo = SLOSpec(ttftP95Ms: 2000, itlP95Ms: 100)
        let design = try ServingDecision.decide(s, catalog: .standard).get()
        #expect(ConfigurationReview.review(s, current: design, observed: design.design, catalog: .standard) == nil)
        let long = LoadProfile(requestsPerSecond: 3, meanInputTokens: 6000, meanOutputTokens: 200)
        let r = try #require(ConfigurationReview.review(s, current: design, observed: long, catalog: .standard))
        #expect(r.currentName.hasPrefix(design.groups[0].gpuType) && r.better.gpuType == "H100", "\(r)")
        #expect(r.saving >= ConfigurationReview.threshold && r.better.costPerHour < (r.current?.costPerHour ?? .infinity))
        #expect(r.message.contains("set spec.expectedLoad to {requestsPerSecond: 3, meanInputTokens: 6000, meanOutputTokens: 200}"), "\(r.message)")
        // Adopting it settles the review.
        s.expectedLoad = ConfigurationReview.expectedLoad(long)
        let adopted = try ServingDecision.decide(s, catalog: .standard).get()
        #expect(ConfigurationReview.review(s, current: adopted, observed: long, catalog: .standard) == nil)
    }

    /// A measured trace gives the dispersion per window; the review suggests the one group
    /// size the configuration it reports sees there, and adopting that expectedLoad settles it.
    @Test func aMeasuredDispersionBecomesTheSuggestedGroupSize() throws {
        var s = spec(allowed: [.l4, .l40s, .h100])
        s.slo = SLOSpec(ttftP95Ms: 2000, itlP95Ms: 100)
        let design = try ServingDecision.decide(s, catalog: .standard).get()
        var observed = LoadProfile(requestsPerSecond: 3, meanInputTokens: 6000, meanOutputTokens: 200)
        observed.dispersionByWindow = [1.5, 1.7, 1.8, 2, 2.5, 4, 8, 12]
        let r = try #require(ConfigurationReview.review(s, current: design, observed: observed, catalog: .standard))
        let size = try #require(r.suggested.requestsPerGroup, "\(r.message)")
        let chosen = ServingDecision.Group(gpuType: r.better.gpuType, tensorParallel: r.better.tensorParallel, replicas: 1, ratePerReplica: 1, pricePerReplicaHour: 1)
        #expect(size == ConfigurationReview.groupSize(observed, on: chosen, model: design.model, catalog: .standard))
        #expect(size > 1 && size < LoadProfile.groupMean(dispersion: 12))
        #expect(r.message.contains(String(format: "requestsPerGroup: %g}", size)), "\(r.message)")
        s.expectedLoad = r.suggested
        let adopted = try ServingDecision.decide(s, catalog: .standard).get()
        #expect(adopted.groups[0].gpuType == r.better.gpuType && adopted.groups[0].tensorParallel == r.better.tensorParallel)
        #expect(ConfigurationReview.review(s, current: adopted, observed: observed, catalog: .standard) == nil)
    }

    /// spec.expectedLoad.requestsPerGroup: the design load carries the groups, which cost
    /// capacity per replica; the sizing load keeps them when the measured mix replaces the
    /// design's lengths, and the review's suggested expectedLoad carries them back.
    @Test func requestsArrivingInGroupsShapeTheDesign() throws {
        var s = spec(allowed: [.h100])
        s.expectedLoad = ExpectedLoadSpec(requestsPerSecond: 10, meanInputTokens: 1500, meanOutputTokens: 60)
        let alone = try ServingDecision.decide(s, catalog: .standard).get()
        s.expectedLoad?.requestsPerGroup = 8
        let grouped = try ServingDecision.decide(s, catalog: .standard).get()
        #expect(grouped.design.arrivalDispersion == 15 && alone.design.arrivalDispersion == 1)
        #expect(ServingDecision.describe(grouped.design) == "10 req/s of 1500 in / 60 out tokens, in groups of 8")
        let sizing = ScalingPolicyController.sizingLoad(design: grouped.design, input: 2000, output: 80, context: 8192)
        #expect(sizing.arrivalDispersion == 15)
        let r = ReplicaModel(model: grouped.model, gpu: GPUCatalog.standard["H100"]!, tensorParallel: grouped.groups[0].tensorParallel)
        let slo = ServingDecision.latencySLO(s.slo)
        #expect(r.fleetRate(for: grouped.design, slo: slo).ratePerReplica < r.maxRate(for: alone.design, slo: slo))
        #expect(ConfigurationReview.expectedLoad(grouped.design).requestsPerGroup == 8)
        #expect(ConfigurationReview.expectedLoad(alone.design).requestsPerGroup == nil)
    }

    @Test func anImpossibleModelIsAnErrorNotACrash() {
        guard case .failure(let e) = ServingDecision.decide(spec(allowed: [.l4], parameters: "405B"), catalog: .standard) else {
            Issue.record("405B on one L4 type must be infeasible")
            return
        }
        #expect("\(e)".contains("L4"))
    }

    @Test func podTemplateCarriesWhatVLLMNeeds() throws {
        let s = spec(replicas: 2)
        let llmd = LLMDeployment(metadata: ObjectMeta(name: "chat", namespace: "ns"), spec: s)
        let d = try ServingDecision.decide(s, catalog: .standard).get()
        let dep = ServingWorkload.deployment(for: llmd, group: d.groups[0], model: d.model)
        let c = dep.spec!.template["spec"]!["containers"]!.arrayValue![0]
        let args = c["args"]!.arrayValue!.compactMap(\.stringValue)
        #expect(args[args.firstIndex(of: "--model")! + 1] == "org/m")
        #expect(args[args.firstIndex(of: "--tensor-parallel-size")! + 1] == String(d.groups[0].tensorParallel))
        #expect(c["resources"]!["limits"]!["nvidia.com/gpu"]!.stringValue == String(d.groups[0].tensorParallel))
        #expect(dep.spec!.selector.matchLabels?["llmops.io/track"] == "stable")
        #expect(dep.metadata.name == "chat-\(d.groups[0].gpuType.lowercased())")
    }

    @Test func canaryReplicasFollowTheWeight() {
        #expect(CanaryRunController.canaryReplicas(stable: 2, weight: 50) == 2)
        #expect(CanaryRunController.canaryReplicas(stable: 2, weight: 34) == 1)
        #expect(CanaryRunController.canaryReplicas(stable: 9, weight: 10) == 1)
        #expect(CanaryRunController.canaryReplicas(stable: 3, weight: 0) == 0)
    }
}

@Suite struct ScalingPolicyDefaultsTests {
    /// A ScalingPolicy that leaves its behaviour out scales as the simulator's llmops policy
    /// (the benchmarked one) does: the CRD's defaults are the core's.
    @Test func theCRDsDefaultsAreTheCoresDefaults() {
        let spec = ScalingPolicySpec(targetRef: LocalObjectReference(name: "m"), maxReplicas: 8)
        let fromCRD = ScalingPolicyController.policy(spec, slo: nil)
        let core = ScalerPolicy(minReplicas: 1, maxReplicas: 8)
        #expect(fromCRD.scaleDown == core.scaleDown)
        #expect(fromCRD.scaleUp == core.scaleUp)
        #expect(fromCRD.scaleDown.stabilizationWindowSeconds == ScalerPolicy.defaultScaleDownWindowSeconds)
    }
}

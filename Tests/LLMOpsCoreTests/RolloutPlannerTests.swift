import LLMOpsCore
import Testing

@Suite struct RolloutPlannerTests {
    func request(_ change: ChangeKind, rps: Double = 50, replicas: Int = 8, spare: Int = 2, headroom: Double = 0.4) -> RolloutRequest {
        RolloutRequest(change: change, trafficRPS: rps, currentReplicas: replicas, gpusPerReplica: 1, spareGPUs: spare, sloHeadroom: headroom)
    }

    @Test func decisionTreePaths() throws {
        #expect(try RolloutPlanner.plan(request(.config)).get().strategy == .rolling)
        #expect(try RolloutPlanner.plan(request(.config, headroom: 0.1)).get().strategy == .canary)
        #expect(try RolloutPlanner.plan(request(.model)).get().strategy == .canary)
        #expect(try RolloutPlanner.plan(request(.engine, rps: 2, spare: 8)).get().strategy == .blueGreen)
        #expect(try RolloutPlanner.plan(request(.model, rps: 200, spare: 8)).get().strategy == .canary)
        // The path taken is visible in the explanation.
        let plan = try RolloutPlanner.plan(request(.engine, rps: 2, spare: 8)).get()
        #expect(plan.explanation.reasons.count == 3)
        #expect(plan.explanation.reasons[1].contains("full copy"))
    }

    @Test func canaryStepsFitSpareGPUsAndCollectEnoughSamples() throws {
        let plan = try RolloutPlanner.plan(request(.model, rps: 20, replicas: 10, spare: 2)).get()
        #expect(plan.steps.map(\.weight) == [10, 25, 50])
        for s in plan.steps {
            let samples = 20 * Double(s.weight) / 100 * s.durationSeconds
            #expect(samples >= Double(s.minSamples))
            if s.surge { #expect(s.canaryReplicas <= 2) }
        }
        #expect(plan.steps[0].surge && !plan.steps[2].surge)
    }

    @Test func rollingCoversEveryReplica() throws {
        let plan = try RolloutPlanner.plan(request(.config, replicas: 10)).get()
        #expect(plan.steps.last?.weight == 100)
        #expect(plan.steps.last?.canaryReplicas == 10)
    }

    @Test func badInput() {
        var r = request(.model)
        r.requestedWeights = [50, 10]
        guard case .failure(.invalidInput(let f, _)) = RolloutPlanner.plan(r) else {
            Issue.record("expected invalid")
            return
        }
        #expect(f == "steps")
        #expect(throws: CoreError.self) { try RolloutPlanner.plan(request(.model, replicas: 0)).get() }
    }
}

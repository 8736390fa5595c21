import Foundation
import LLMOpsCore
import Testing

@testable import Simulator

/// Index of dispersion of arrival counts in windows of `width` seconds: 1 for Poisson, more
/// for bursty traffic.
func dispersion(_ requests: [TraceRequest], width: Double) -> Double {
    let end = requests.last!.arrival
    var counts = Array(repeating: 0.0, count: Int(end / width) + 1)
    for r in requests { counts[Int(r.arrival / width)] += 1 }
    counts.removeLast()
    let mean = counts.reduce(0, +) / Double(counts.count)
    let variance = counts.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(counts.count)
    return variance / mean
}

@Suite struct TrafficGeneratorTests {
    @Test func presetsHitTheirRateAndShape() throws {
        for name in TrafficSpec.presetNames {
            let spec = try #require(TrafficSpec.preset(name, rate: 5, duration: 7200))
            #expect(spec.validate() == nil)
            let a = TrafficGenerator.generate(spec, seed: 11), b = TrafficGenerator.generate(spec, seed: 11)
            #expect(a == b, "\(name): the same seed must give the same trace")
            #expect(a != TrafficGenerator.generate(spec, seed: 12))
            let rate = Double(a.count) / 7200
            #expect(abs(rate - 5) / 5 < 0.2, "\(name): mean rate \(rate)")
            #expect(zip(a, a.dropFirst()).allSatisfy { $0.arrival <= $1.arrival })
            #expect(a.allSatisfy { $0.inputTokens >= 1 && $0.inputTokens <= spec.input.maximum && $0.outputTokens <= spec.output.maximum })
        }
        // Bursty traffic is far more dispersed than Poisson at the minute scale; steady is not.
        let bursty = TrafficGenerator.generate(TrafficSpec.preset("bursty", rate: 5, duration: 7200)!, seed: 3)
        let steady = TrafficGenerator.generate(TrafficSpec.preset("steady", rate: 5, duration: 7200)!, seed: 3)
        #expect(dispersion(bursty, width: 60) > 10 * dispersion(steady, width: 60))
        #expect(dispersion(steady, width: 60) < 2)
        // Long-context prompts are long with a heavy tail.
        let long = TrafficGenerator.generate(TrafficSpec.preset("long-context", rate: 2, duration: 3600)!, seed: 3)
        let inputs = long.map(\.inputTokens).sorted()
        #expect(inputs[inputs.count / 2] > 4000 && inputs[inputs.count * 99 / 100] > 3 * inputs[inputs.count / 2])
        // Batch traffic arrives in groups sharing one arrival time, eight requests on average;
        // the other profiles bring one request per arrival.
        let batch = TrafficGenerator.generate(TrafficSpec.preset("batch", rate: 5, duration: 7200)!, seed: 3)
        let groups = Double(Set(batch.map(\.arrival)).count)
        #expect(abs(Double(batch.count) / groups - 8) < 0.8, "mean batch \(Double(batch.count) / groups)")
        #expect(Set(bursty.map(\.arrival)).count == bursty.count)
        // Within a second, the groups make the counts several times as dispersed as the same
        // traffic arriving one request at a time (E[k²]/E[k] = 2B − 1 = 15 for the groups
        // alone, less the Gamma arrivals' own dispersion that the single requests keep).
        var singles = TrafficSpec.preset("batch", rate: 5, duration: 7200)!
        singles.meanBatchSize = 1
        let ratio = dispersion(batch, width: 1) / dispersion(TrafficGenerator.generate(singles, seed: 3), width: 1)
        #expect(ratio > 4 && ratio < 16, "dispersion ratio \(ratio)")
    }

    @Test func badSpecsSayWhatIsWrong() {
        var spec = TrafficSpec.preset("steady", rate: 1, duration: 60)!
        spec.meanRate = -1
        #expect(spec.validate()?.contains("rate") == true)
        spec = TrafficSpec.preset("bursty", rate: 1, duration: 60)!
        spec.burstRatio = 0.5
        #expect(spec.validate()?.contains("burst ratio") == true)
        spec = TrafficSpec.preset("bursty", rate: 1, duration: 60)!
        spec.input.median = 0
        #expect(spec.validate()?.hasPrefix("input:") == true)
        spec = TrafficSpec.preset("batch", rate: 1, duration: 60)!
        spec.meanBatchSize = 0.5
        #expect(spec.validate()?.contains("batch size") == true)
    }

    @Test func superposingMultipliesTheLoadAndKeepsEachStream() {
        let base = TrafficGenerator.generate(TrafficSpec.preset("bursty", rate: 2, duration: 1800)!, seed: 5)
        let scaled = RateScaling.superpose(base, factor: 4)
        #expect(scaled.count == 4 * base.count)
        #expect(zip(scaled, scaled.dropFirst()).allSatisfy { $0.arrival <= $1.arrival })
        #expect(scaled.last!.arrival <= base.last!.arrival + 1)
        // The same requests, four times over.
        let lengths = { (xs: [TraceRequest]) in xs.map { "\($0.inputTokens)/\($0.outputTokens)" }.sorted() }
        #expect(lengths(scaled) == lengths(base + base + base + base))
        // Aggregating independent shifted streams smooths them (dispersion grows less than K).
        #expect(dispersion(scaled, width: 60) < 4 * dispersion(base, width: 60))
        // Changes slower than the spread reach every copy, as a busy hour reaches all users:
        // a trace whose second half is three times as busy stays so at ×8. (Offsets spread
        // evenly over the whole trace flattened it to one level.)
        let halves = poissonTrace(seconds: 3600, seed: 3, rate: { $0 < 1800 ? 1 : 3 })
        let scaledHalves = RateScaling.superpose(halves, factor: 8)
        let late = Double(scaledHalves.filter { $0.arrival >= 2400 && $0.arrival < 3600 }.count)
        let early = Double(scaledHalves.filter { $0.arrival >= 600 && $0.arrival < 1800 }.count)
        #expect(late / early > 2.5, "\(late) / \(early)")
        let fractional = RateScaling.superpose(base, factor: 2.5)
        #expect(abs(Double(fractional.count) / Double(base.count) - 2.5) < 0.1)
        #expect(RateScaling.superpose(base, factor: 1) == base)
    }

    @Test func burstReserveTellsBurstyFromSmooth() {
        let steady = TrafficGenerator.generate(TrafficSpec.preset("steady", rate: 5, duration: 3600)!, seed: 8)
        let bursty = TrafficGenerator.generate(TrafficSpec.preset("bursty", rate: 5, duration: 3600)!, seed: 8)
        let smooth = Evaluation.burstFactor(steady, lead: 53, wait: 2, missShare: 0.005)
        let rough = Evaluation.burstFactor(bursty, lead: 53, wait: 2, missShare: 0.005)
        #expect(smooth < 1.4, "steady traffic needs little reserve: \(smooth)")
        #expect(rough > 2.5, "4x bursts need a large reserve: \(rough)")
        // A bigger miss budget never needs a bigger reserve.
        #expect(Evaluation.burstFactor(bursty, lead: 53, wait: 2, missShare: 0.05) <= rough)
    }
}

@Suite struct CalibrationTests {
    /// The capacity model against the simulator it is meant to describe: for a chat-like mix
    /// the SLO capacity it predicts per replica is within 35 % of what the simulator measures,
    /// on a fast and a slow GPU.
    @Test func capacityModelTracksTheSimulator() async {
        let lengths = TrafficGenerator.generate(TrafficSpec.preset("steady", rate: 5, duration: 1200)!, seed: 4)
        let replicas = [
            ReplicaModel(model: model8B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: 1),
            ReplicaModel(model: model8B, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1),
        ]
        let rows = await Calibration.table(replicas, lengths: lengths, slo: slo)
        #expect(rows.count == 2)
        for row in rows {
            #expect(row.simulatedRate > 0)
            #expect(abs(row.error) < 0.35, "\(row.configuration): model \(row.modelRate) vs simulator \(row.simulatedRate)")
        }
        // H100 serves more than L40S in both.
        #expect(rows[0].simulatedRate > rows[1].simulatedRate && rows[0].modelRate > rows[1].modelRate)
    }

    /// A fleet behind the least-loaded router carries more per replica than one replica where
    /// prompts wait for prefill (long prompts on an L40S), in the simulator and in the model,
    /// and the model's gain is not larger than the simulator's.
    @Test func aFleetCarriesMorePerReplicaThanOneReplica() async {
        var lengths = TrafficGenerator.generate(TrafficSpec.preset("long-context", rate: 1, duration: 1200)!, seed: 6)
        lengths = lengths.map { TraceRequest(arrival: $0.arrival, inputTokens: min($0.inputTokens, 7000), outputTokens: min($0.outputTokens, 400)) }
        let replica = ReplicaModel(model: model8B, gpu: GPUCatalog.standard["L40S"]!, tensorParallel: 1)
        let one = await Calibration.table([replica], lengths: lengths, slo: slo)[0]
        let four = await Calibration.table([replica], lengths: lengths, slo: slo, fleet: 4)[0]
        #expect(one.fleet == 1 && four.fleet == 4)
        #expect(one.simulatedRate > 0 && four.simulatedRate > 1.1 * one.simulatedRate, "\(one.simulatedRate) → \(four.simulatedRate)")
        #expect(four.modelRate > one.modelRate, "\(one.modelRate) → \(four.modelRate)")
        #expect(abs(one.error) < 0.35 && abs(four.error) < 0.35, "model \(one.modelRate) → \(four.modelRate), simulator \(one.simulatedRate) → \(four.simulatedRate)")
        #expect(ReportFormatter.calibrationTable([four]).contains("per replica of a fleet of 4"))
    }

    /// Groups of eight requests on average arriving at once: the model, sizing as it does
    /// (each replica sees its share of every group as if the router spread them at random,
    /// and no pooling), is conservative in a fleet of 16: never more than 10 % above the
    /// simulator's least-loaded router, and within 35 % below it on H100s. A single replica
    /// carries far less per replica than the fleet in both.
    @Test func groupedArrivalsMatchTheSimulatorInAFleet() async {
        let lengths = TrafficGenerator.generate(TrafficSpec.preset("batch", rate: 4, duration: 1200)!, seed: 8)
        let replicas = [1, 2].map { ReplicaModel(model: model8B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: $0) }
        let fleet = await Calibration.table(replicas, lengths: lengths, slo: slo, fleet: 16, groupMean: 8)
        let alone = await Calibration.table(replicas, lengths: lengths, slo: slo, fleet: 1, groupMean: 8)
        for (f, a) in zip(fleet, alone) {
            #expect(f.simulatedRate > 0 && f.error < 0.1 && f.error > -0.35, "\(f.configuration): model \(f.modelRate) vs simulator \(f.simulatedRate)")
            #expect(a.simulatedRate < 0.6 * f.simulatedRate && a.modelRate < 0.6 * f.modelRate, "\(a.configuration): \(a.simulatedRate) alone, \(f.simulatedRate) in a fleet")
        }
        #expect(ReportFormatter.calibrationTable(fleet).contains("groups of 8 requests on average"))
    }
}

@Suite struct ArrivalDispersionTests {
    /// Groups arriving at once read as a dispersion near E[X²]/E[X] at every short window;
    /// requests one at a time read near 1.
    @Test func groupsAndSingleArrivalsAreToldApart() {
        let batch = TrafficGenerator.generate(TrafficSpec.preset("batch", rate: 4, duration: 3600)!, seed: 5)
        let steady = TrafficGenerator.generate(TrafficSpec.preset("steady", rate: 4, duration: 3600)!, seed: 5)
        // Geometric groups of mean 8: E[X²]/E[X] = 2·8 − 1 = 15 (more with the gamma gaps).
        let grouped = Evaluation.arrivalDispersion(batch, window: 0.125)
        let single = Evaluation.arrivalDispersion(steady, window: 0.125)
        #expect(grouped > 12 && grouped < 25, "\(grouped)")
        #expect(single > 0.8 && single < 1.3, "\(single)")
        let profile = Evaluation.loadProfile(batch, attainment: 0.99)
        #expect(profile.dispersionByWindow.count == LoadProfile.dispersionWindows.count && profile.arrivesInGroups)
        #expect(Evaluation.arrivalDispersion(Array(batch.prefix(1)), window: 1) == 1)
    }
}


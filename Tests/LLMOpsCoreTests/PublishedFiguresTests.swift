import Foundation
import LLMOpsCore
import Testing

/// The replica model against published measurements of vLLM, so its errors are known and a
/// change to its constants that moves it away from real engines fails here. Only figures that
/// state GPU, model, engine version and request lengths are used; the README lists each with
/// the model's error.
@Suite struct PublishedFiguresTests {
    /// Output tokens per second of a closed loop of `c` clients each sending `input`-token
    /// prompts for `output` tokens (vLLM's `bench serve --max-concurrency c`): per cycle, every
    /// client's prefill runs as a chunk beside the others' decode.
    func closedLoopTokensPerSecond(_ r: ReplicaModel, concurrency c: Double, input: Double, output: Double) -> Double {
        let step = r.decodeStepSeconds(batch: c, context: input + output / 2)
        let prefillExtra = max(0, r.prefillSeconds(tokens: input + c - 1) - step)
        return c * output / ((output - 1) * step + c * prefillExtra + step)
    }

    /// johnmusgrave.com, "vLLM throughput-latency sweep on NVIDIA A100" (2026): A100 40GB,
    /// Llama-3.1-8B-Instruct BF16, vLLM as reported on the page ("0.23.0"), 1,024 input and
    /// 128 output tokens: about 75 tokens/s at concurrency 1, and 6.6× that at concurrency 8.
    @Test func a100SingleStreamAndBatchOfEight() {
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["A100-40GB"]!, tensorParallel: 1)
        let one = closedLoopTokensPerSecond(r, concurrency: 1, input: 1024, output: 128)
        let eight = closedLoopTokensPerSecond(r, concurrency: 8, input: 1024, output: 128)
        #expect(abs(one / 75 - 1) < 0.15, "single stream: model \(one) tok/s vs 75 published")
        #expect(abs((eight / one) / 6.6 - 1) < 0.25, "gain at 8: model \(eight / one)× vs 6.6× published")
    }

    /// InferenceBench "concurrency sweep" recipe (2026-05-16): H100-80GB-HBM3, vLLM 0.21.0,
    /// Llama-3.1-8B-Instruct FP16, short chat prompts: median time per output token 6.48 ms at
    /// concurrency 1 and 6.59 ms at 4. Decode of an 8B model at small batch is bound by reading
    /// the weights, which the model gets within a few per cent.
    @Test func h100TimePerOutputTokenAtSmallBatch() {
        let r = ReplicaModel(model: llama8B, gpu: GPUCatalog.standard["H100"]!, tensorParallel: 1)
        let c1 = r.decodeStepSeconds(batch: 1, context: 300) * 1000
        let c4 = r.decodeStepSeconds(batch: 4, context: 300) * 1000
        #expect(abs(c1 / 6.48 - 1) < 0.15, "TPOT at 1: model \(c1) ms vs 6.48 published")
        #expect(abs(c4 / 6.59 - 1) < 0.15, "TPOT at 4: model \(c4) ms vs 6.59 published")
    }
}

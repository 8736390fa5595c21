import Foundation
import LLMOpsCore

/// What a serving container runs, read from its image and arguments as vLLM reads its command
/// line: `--model`, `--served-model-name`, `--tensor-parallel-size`, `--max-model-len`,
/// `--dtype`/`--quantization`. The parameter count comes from the Pod annotation
/// `llmops.io/parameter-count` when set, else from the model's name ("Llama-3.1-8B" is 8B),
/// else 8B.
struct ServedModel: Sendable, Equatable {
    static let parameterAnnotation = "llmops.io/parameter-count"

    var name: String
    var parameters: Double
    var bytesPerParameter: Double
    var contextLength: Int
    var tensorParallel: Int

    /// Whether a container is a vLLM server: its image or command names vLLM.
    static func isVLLM(image: String, command: [String]) -> Bool {
        image.lowercased().contains("vllm") || command.contains { $0.contains("vllm") }
    }

    init(args: [String], annotations: [String: String], gpus: Int) {
        func value(_ flag: String) -> String? {
            for (i, a) in args.enumerated() {
                if a == flag, i + 1 < args.count { return args[i + 1] }
                if a.hasPrefix(flag + "=") { return String(a.dropFirst(flag.count + 1)) }
            }
            return nil
        }
        // `vllm serve MODEL` takes the model positionally.
        var model = value("--model")
        if model == nil, let i = args.firstIndex(of: "serve"), i + 1 < args.count, !args[i + 1].hasPrefix("-") { model = args[i + 1] }
        let modelName = model ?? "facebook/opt-125m"
        name = value("--served-model-name") ?? modelName
        tensorParallel = value("--tensor-parallel-size").flatMap(Int.init) ?? value("-tp").flatMap(Int.init) ?? max(1, gpus)
        contextLength = value("--max-model-len").flatMap(Int.init) ?? 8192
        let quantized = ["fp8", "int8"].contains(value("--quantization") ?? "") || value("--dtype") == "fp8"
        bytesPerParameter = quantized ? 1 : (value("--dtype") == "float32" ? 4 : 2)
        parameters = annotations[Self.parameterAnnotation].flatMap(Self.parse) ?? Self.fromName(modelName) ?? 8e9
    }

    static func parse(_ text: String) -> Double? {
        guard let suffix = text.last, let v = Double(text.dropLast()), v > 0 else { return nil }
        switch suffix {
        case "M", "m": return v * 1e6
        case "B", "b": return v * 1e9
        case "T", "t": return v * 1e12
        default: return nil
        }
    }

    /// "meta-llama/Llama-3.1-70B-Instruct" → 70e9: the last "<number>B" token of the name.
    static func fromName(_ name: String) -> Double? {
        let tokens = name.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "_" || $0 == ":" })
        for t in tokens.reversed() where t.count >= 2 {
            if let v = parse(String(t)), t.last == "B" || t.last == "b" || t.last == "M" { return v }
        }
        return nil
    }

    var profile: ModelProfile {
        ModelProfile.estimated(parameters: parameters, bytesPerParameter: bytesPerParameter, contextLength: contextLength)
    }

    /// Start-up as the simulator models it: weights over a 2 GB/s storage path plus 30 s of
    /// engine start (CUDA graphs, tokenizer, server).
    var coldStartSeconds: Double { profile.weightBytes / 2e9 + 30 }
}

import Foundation
import KubeModel
import LLMOpsAPI
import LLMOpsCore

/// The children of one LLMDeployment as a real vLLM deployment needs them: one `apps/v1`
/// Deployment per GPU type of the decision and one Service in front of all of them.
enum ServingWorkload {
    static let nameLabel = "llmops.io/deployment"
    static let gpuLabel = "llmops.io/gpu-type"
    /// `stable` for the LLMDeployment's own replicas, `canary` for a CanaryRun's: the Service
    /// selects both, each Deployment only its own.
    static let trackLabel = "llmops.io/track"
    static let stableTrack = "stable"
    static let canaryTrack = "canary"
    static let defaultImage = "vllm/vllm-openai:v0.8.5"
    static let port: Int64 = 8000

    static func deploymentName(_ owner: String, gpuType: String) -> String { "\(owner)-\(gpuType.lowercased())" }

    /// The selector over every serving Pod of the LLMDeployment (also its scale selector).
    static func selector(_ owner: String) -> String { "\(nameLabel)=\(owner)" }

    /// The weights' location as vLLM takes it: a Hugging Face id for hf://, else the URI.
    static func modelArgument(_ source: String) -> String {
        source.hasPrefix("hf://") ? String(source.dropFirst(5)) : source
    }

    static func deployment(for llmd: LLMDeployment, group: ServingDecision.Group, model: ModelProfile, track: String = stableTrack) -> Deployment {
        let name = llmd.metadata.name ?? ""
        let spec = llmd.spec
        let tp = group.tensorParallel
        var args: [JSONValue] = [
            "--model", .string(modelArgument(spec.model.source)), "--served-model-name", .string(spec.model.name),
            "--tensor-parallel-size", .string(String(tp)), "--max-model-len", .string(String(spec.model.contextLength)),
            "--port", .string(String(port)),
        ]
        if let rev = spec.model.revision { args += ["--revision", .string(rev)] }
        switch spec.model.precision {
        case .fp8: args += ["--quantization", "fp8"]
        case .fp16: args += ["--dtype", "float16"]
        case .fp32: args += ["--dtype", "float32"]
        case .bf16: args += ["--dtype", "bfloat16"]
        case .int8, .int4: break
        }
        args += (spec.engine.args ?? []).map(JSONValue.string)
        // Weights over a 2 GB/s path plus 30 s of engine start; the startup probe allows three
        // times that before the kubelet restarts the container.
        let coldStart = model.weightBytes / 2e9 + 30
        let startupFailures = Int64(max(30, (coldStart * 3 / 10).rounded(.up)))
        let labels: [String: String] = [
            nameLabel: name, gpuLabel: group.gpuType, trackLabel: track, "app.kubernetes.io/name": "vllm", "app.kubernetes.io/instance": name,
            "app.kubernetes.io/managed-by": "llmops",
        ]
        let products = GPUCatalog.productLabels[group.gpuType] ?? ["NVIDIA-\(group.gpuType)"]
        let probe: (String, Int64, Int64) -> JSONValue = { path, period, failures in
            ["httpGet": ["path": .string(path), "port": .int(port)], "periodSeconds": .int(period), "failureThreshold": .int(failures), "timeoutSeconds": 5]
        }
        let container: JSONValue = [
            "name": "vllm", "image": .string(spec.engine.image ?? defaultImage), "args": .array(args),
            "ports": [["name": "http", "containerPort": .int(port), "protocol": "TCP"]],
            "resources": [
                "limits": ["nvidia.com/gpu": .string(String(tp))],
                "requests": ["nvidia.com/gpu": .string(String(tp)), "cpu": .string(String(4 * tp)), "memory": .string("\(32 * tp)Gi")],
            ],
            "readinessProbe": probe("/health", 5, 3), "livenessProbe": probe("/health", 10, 3), "startupProbe": probe("/health", 10, startupFailures),
            "volumeMounts": [["name": "dshm", "mountPath": "/dev/shm"]],
            "env": [["name": "HF_HOME", "value": "/root/.cache/huggingface"]],
        ]
        let podSpec: JSONValue = [
            "containers": [container],
            "volumes": [["name": "dshm", "emptyDir": ["medium": "Memory", "sizeLimit": .string("\(8 * tp)Gi")]]],
            "affinity": [
                "nodeAffinity": [
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        "nodeSelectorTerms": [["matchExpressions": [["key": "nvidia.com/gpu.product", "operator": "In", "values": .array(products.map(JSONValue.string))]]]]
                    ]
                ]
            ],
            "tolerations": [["key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"]],
            "topologySpreadConstraints": [[
                "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": ["matchLabels": [.init(stringLiteral: nameLabel): .string(name)]],
            ]],
            "terminationGracePeriodSeconds": 60,
        ]
        var annotations = ["llmops.io/parameter-count": spec.model.parameterCount]
        annotations["prometheus.io/scrape"] = "true"
        annotations["prometheus.io/port"] = String(port)
        annotations["prometheus.io/path"] = "/metrics"
        let template: JSONValue = [
            "metadata": ["labels": .object(JSONObject(labels.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })), "annotations": .object(JSONObject(annotations.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))],
            "spec": podSpec,
        ]
        var meta = ObjectMeta(name: deploymentName(name, gpuType: group.gpuType), namespace: llmd.metadata.namespace, labels: labels)
        meta.ownerReferences = llmd.controllerReference().map { [$0] }
        var d = Deployment(
            metadata: meta,
            spec: .init(replicas: Int32(group.replicas), selector: LabelSelectorSpec(matchLabels: [nameLabel: name, gpuLabel: group.gpuType, trackLabel: track]), template: template))
        // Serving capacity must not dip during a rollout: surge one, keep every old replica.
        d.spec?.strategy = ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1, "maxUnavailable": 0]]
        d.spec?.revisionHistoryLimit = 5
        return d
    }

    /// The serving Pods of LLMDeployment `name` that are not being deleted.
    static func livePods(of name: String, in pods: [Pod]) -> [Pod] {
        pods.filter { $0.metadata.labels?[nameLabel] == name && $0.metadata.deletionTimestamp == nil }
    }

    static func service(for llmd: LLMDeployment) -> KubeModel.Service {
        let name = llmd.metadata.name ?? ""
        var meta = ObjectMeta(name: name, namespace: llmd.metadata.namespace, labels: [nameLabel: name, "app.kubernetes.io/managed-by": "llmops"])
        meta.ownerReferences = llmd.controllerReference().map { [$0] }
        return KubeModel.Service(
            metadata: meta,
            spec: .init(selector: [nameLabel: name], ports: [.init(name: "http", port: Int32(port), targetPort: "http", protocol: "TCP")], type: "ClusterIP"))
    }
}

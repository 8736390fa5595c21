import Foundation
import KubeModel
import Testing

@testable import LocalCluster

/// How the simulated kubelet turns an llmops-image container into a process's arguments and
/// environment (the process itself is run by Tests/e2e/test_85_install_rbac.py).
@Suite struct ProcessContainerTests {
    @Test func onlyTheLLMOpsImageRunsAsAProcess() {
        #expect(ProcessContainer.isLLMOps(image: "ghcr.io/llmops/llmops:0.1.0"))
        #expect(ProcessContainer.isLLMOps(image: "llmops"))
        #expect(ProcessContainer.isLLMOps(image: "registry:5000/team/llmops@sha256:abc"))
        #expect(!ProcessContainer.isLLMOps(image: "vllm/vllm-openai:v0.6.3"))
        #expect(!ProcessContainer.isLLMOps(image: "ghcr.io/llmops/llmops-docs:1"))
    }

    @Test func variablesExpandAsKubernetesExpandsThem() {
        let env = ["NS": "llmops-system", "EMPTY": ""]
        #expect(ProcessContainer.expand("--leader-election-namespace=$(NS)", env) == "--leader-election-namespace=llmops-system")
        #expect(ProcessContainer.expand("$(MISSING)/$(NS)", env) == "$(MISSING)/llmops-system")
        #expect(ProcessContainer.expand("$$(NS) costs $5", env) == "$(NS) costs $5")
        #expect(ProcessContainer.expand("x$(EMPTY)y", env) == "xy")
    }

    @Test func listenAddressesOnAllInterfacesNarrowToThePodIP() {
        #expect(ProcessContainer.narrow("--metrics-bind-address=:8080", podIP: "127.10.0.3") == "--metrics-bind-address=127.10.0.3:8080")
        #expect(ProcessContainer.narrow("0.0.0.0:9090", podIP: "127.10.0.3") == "127.10.0.3:9090")
        #expect(ProcessContainer.narrow("--addr=[::]:1", podIP: "127.10.0.3") == "--addr=127.10.0.3:1")
        #expect(ProcessContainer.narrow("--metrics-bind-address=10.0.0.1:8080", podIP: "127.10.0.3") == "--metrics-bind-address=10.0.0.1:8080")
        #expect(ProcessContainer.narrow("--ratio=:x", podIP: "127.10.0.3") == "--ratio=:x")
    }

    @Test func commandAndArgsFollowTheImageEntrypoint() throws {
        let env = ["POD_NAMESPACE": "ops"]
        let argsOnly: JSONValue = ["args": ["operator", "--leader-election-namespace=$(POD_NAMESPACE)", "--health-probe-bind-address=:8081"]]
        #expect(try ProcessContainer.arguments(argsOnly, env: env, podIP: "127.10.0.9")
            == ["operator", "--leader-election-namespace=ops", "--health-probe-bind-address=127.10.0.9:8081"])
        #expect(try ProcessContainer.arguments(.object(JSONObject()), env: env, podIP: "x") == ProcessContainer.defaultArguments)
        let withCommand: JSONValue = ["command": ["/usr/local/bin/llmops", "operator"], "args": ["--log-level=debug"]]
        #expect(try ProcessContainer.arguments(withCommand, env: env, podIP: "x") == ["operator", "--log-level=debug"])
        let shell: JSONValue = ["command": ["sh", "-c", "llmops operator"]]
        #expect(throws: ProcessContainer.LaunchError.self) { try ProcessContainer.arguments(shell, env: env, podIP: "x") }
    }

    @Test func theDownwardAPIFillsFieldRefs() throws {
        var pod = Pod(metadata: ObjectMeta(name: "op-1", namespace: "ops", labels: ["app": "llmops"]))
        pod.metadata.uid = "u-1"
        pod.spec = ["nodeName": "cpu-0", "serviceAccountName": "llmops-operator"]
        #expect(try ContainerEnvironment.fieldValue("metadata.name", pod: pod, podIP: "127.10.0.1") == "op-1")
        #expect(try ContainerEnvironment.fieldValue("metadata.namespace", pod: pod, podIP: "127.10.0.1") == "ops")
        #expect(try ContainerEnvironment.fieldValue("status.podIP", pod: pod, podIP: "127.10.0.1") == "127.10.0.1")
        #expect(try ContainerEnvironment.fieldValue("spec.serviceAccountName", pod: pod, podIP: "") == "llmops-operator")
        #expect(try ContainerEnvironment.fieldValue("metadata.labels['app']", pod: pod, podIP: "") == "llmops")
        #expect(throws: ContainerEnvironment.Failure.self) { try ContainerEnvironment.fieldValue("spec.containers", pod: pod, podIP: "") }
    }
}

"""`llmops up --gpus`: the simulated GPU cluster, driven as a user drives a real one — kubectl
for the workloads, curl-style HTTP for the vLLM endpoints on each Pod's own address.

Modelled delays run 200x faster (--time-scale 200): an 8B model's 38 s start-up takes 0.19 s.
"""
import json
import time
import urllib.request

import pytest

from conftest import BIN, gpu_plane

SPEED = 200
VLLM = "vllm/vllm-openai:v0.8.5"
MODEL = "meta-llama/Llama-3.1-8B-Instruct"


@pytest.fixture(scope="module")
def gpu():
    if not BIN.exists():
        pytest.exit(f"{BIN} is missing: run `swift build` first", returncode=2)
    yield from gpu_plane("llmops-gpu-", "h100:2x8,l40s:2x4", "--time-scale", str(SPEED))


def wait_for(what, check, timeout=60, interval=0.3):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = check()
            if last:
                return last
        except AssertionError as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last}")


def http(url, body=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read().decode()


def pods(cp, selector):
    return cp.get_json("pods", "-l", selector)["items"]


def ready(p):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))


def create_vllm(cp, name, replicas=1, gpus=1):
    cp.kubectl("create", "deployment", name, f"--image={VLLM}", f"--replicas={replicas}", "--", "vllm", "serve", MODEL)
    cp.kubectl("set", "resources", "deployment", name, f"--limits=nvidia.com/gpu={gpus}")
    cp.kubectl("rollout", "status", f"deployment/{name}", "--timeout=60s")


def test_gpu_nodes_registered_with_gfd_labels_and_heartbeats(gpu):
    nodes = {n["metadata"]["name"]: n for n in gpu.get_json("nodes")["items"]}
    assert set(nodes) == {"cpu-0", "gpu-h100-0", "gpu-h100-1", "gpu-l40s-0", "gpu-l40s-1"}
    h100 = nodes["gpu-h100-0"]
    labels = h100["metadata"]["labels"]
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"
    assert labels["nvidia.com/gpu.count"] == "8"
    assert int(labels["nvidia.com/gpu.memory"]) > 70000
    assert labels["kubernetes.io/hostname"] == "gpu-h100-0"
    assert h100["status"]["capacity"]["nvidia.com/gpu"] == "8"
    assert h100["status"]["allocatable"]["nvidia.com/gpu"] == "8"
    assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in h100["spec"]["taints"]
    assert nodes["gpu-l40s-0"]["status"]["capacity"]["nvidia.com/gpu"] == "4"
    assert "nvidia.com/gpu" not in nodes["cpu-0"]["status"]["capacity"]
    zones = {n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes.values()}
    assert len(zones) >= 2
    out = gpu.kubectl("get", "nodes").stdout
    assert out.count(" Ready ") == 5, out
    lease = gpu.get_json("lease", "-n", "kube-node-lease", "gpu-h100-0")
    first = lease["spec"]["renewTime"]
    wait_for("a lease renewal", lambda: gpu.get_json("lease", "-n", "kube-node-lease", "gpu-h100-0")["spec"]["renewTime"] != first, timeout=10)


def test_vllm_deployment_runs_on_gpu_nodes_and_serves(gpu):
    create_vllm(gpu, "chat", replicas=2)
    items = pods(gpu, "app=chat")
    assert len(items) == 2
    for p in items:
        assert p["status"]["phase"] == "Running" and ready(p)
        assert p["spec"]["nodeName"].startswith("gpu-")
        # ExtendedResourceToleration gave the Pod the GPU taint's toleration.
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in p["spec"]["tolerations"]
        assert p["status"]["podIP"].startswith("127.10.")
    ip = items[0]["status"]["podIP"]
    status, text = http(f"http://{ip}:8000/v1/models")
    assert json.loads(text)["data"][0]["id"] == MODEL
    status, text = http(f"http://{ip}:8000/v1/completions", {"model": MODEL, "prompt": "The capital of France is", "max_tokens": 12})
    answer = json.loads(text)
    assert answer["usage"]["completion_tokens"] == 12 and answer["choices"][0]["finish_reason"] == "length"
    assert 0 < answer["llmops_timing"]["ttft_seconds"] < answer["llmops_timing"]["e2e_seconds"]
    status, metrics = http(f"http://{ip}:8000/metrics")
    for name in ["vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:gpu_cache_usage_perc",
                 "vllm:time_to_first_token_seconds_bucket", "vllm:time_per_output_token_seconds_bucket",
                 "vllm:e2e_request_latency_seconds_sum", "vllm:request_success_total", "vllm:prompt_tokens_total",
                 "vllm:generation_tokens_total"]:
        assert name in metrics, name
    assert f'vllm:generation_tokens_total{{model_name="{MODEL}"}} 12' in metrics
    assert 'vllm:time_to_first_token_seconds_count{model_name="%s"} 1' % MODEL in metrics


def test_startup_takes_the_modelled_time(gpu):
    # A 70B model in BF16 loads 140 GB at 2 GB/s plus 30 s of engine start: 100 s, 0.5 s at
    # this speed. The Pod runs at once but is Ready only after that.
    gpu.kubectl("create", "deployment", "big", f"--image={VLLM}", "--", "vllm", "serve", "meta-llama/Llama-3.1-70B-Instruct",
                "--tensor-parallel-size", "4")
    gpu.kubectl("set", "resources", "deployment", "big", "--limits=nvidia.com/gpu=4")
    seen_starting = False
    deadline = time.time() + 30
    while time.time() < deadline:
        ps = [x for x in pods(gpu, "app=big") if x["status"].get("phase") == "Running" and "nvidia.com/gpu" in str(x["spec"])]
        if ps and not ready(ps[0]):
            seen_starting = True
        if ps and ready(ps[0]):
            break
        time.sleep(0.05)
    assert seen_starting, "the Pod was Running but not yet Ready while the weights loaded"
    assert ready(ps[0])
    gpu.kubectl("delete", "deployment", "big", "--wait=false")


def test_scaling_past_the_gpus_leaves_pods_pending_with_a_reason(gpu):
    create_vllm(gpu, "wide", replicas=1, gpus=4)
    gpu.kubectl("scale", "deployment", "wide", "--replicas=6")
    def pending():
        ps = [p for p in pods(gpu, "app=wide") if not p["spec"].get("nodeName") and p["status"].get("conditions")]
        return ps if ps else None
    ps = wait_for("pending pods", pending)
    cond = next(c for c in ps[0]["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable"
    assert "Insufficient nvidia.com/gpu" in cond["message"] and cond["message"].startswith("0/5 nodes are available")
    events = gpu.kubectl("get", "events", "--field-selector", f"reason=FailedScheduling,involvedObject.name={ps[0]['metadata']['name']}").stdout
    assert "Insufficient nvidia.com/gpu" in events, events
    assert "Pending" in gpu.kubectl("get", "pods", "-l", "app=wide").stdout
    gpu.kubectl("delete", "deployment", "wide")
    wait_for("wide pods gone", lambda: not pods(gpu, "app=wide"))


def test_node_selector_and_affinity_pick_the_gpu_type(gpu):
    create_vllm(gpu, "onh100")
    gpu.kubectl("patch", "deployment", "onh100", "--type=merge", "-p",
                json.dumps({"spec": {"template": {"spec": {"nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}}}}}))
    gpu.kubectl("rollout", "status", "deployment/onh100", "--timeout=60s")
    wait_for("one pod on H100", lambda: [p for p in pods(gpu, "app=onh100") if p["metadata"].get("deletionTimestamp") is None and p["spec"]["nodeName"].startswith("gpu-h100")])
    gpu.kubectl("delete", "deployment", "onh100")


def test_rollout_undo_restores_the_previous_template_and_replicaset(gpu):
    create_vllm(gpu, "roll")
    before = {rs["metadata"]["name"] for rs in gpu.get_json("rs", "-l", "app=roll")["items"]}
    gpu.kubectl("set", "image", "deployment/roll", f"vllm-openai=vllm/vllm-openai:v0.9.0")
    gpu.kubectl("rollout", "status", "deployment/roll", "--timeout=60s")
    gpu.kubectl("rollout", "undo", "deployment/roll")
    gpu.kubectl("rollout", "status", "deployment/roll", "--timeout=60s")
    d = gpu.get_json("deployment", "roll")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == VLLM
    after = gpu.get_json("rs", "-l", "app=roll")["items"]
    assert len(after) == len(before) + 1, "undo reuses the old ReplicaSet"
    live = [rs for rs in after if rs["spec"]["replicas"] > 0]
    assert len(live) == 1 and live[0]["metadata"]["name"] in before
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]
    assert d["status"]["updatedReplicas"] == d["status"]["availableReplicas"] == 1
    history = gpu.kubectl("rollout", "history", "deployment/roll").stdout
    assert "REVISION" in history


def test_service_endpointslice_lists_ready_pods(gpu):
    gpu.kubectl("expose", "deployment", "chat", "--port=8000")
    def slice_ready():
        s = gpu.get_json("endpointslices", "-l", "kubernetes.io/service-name=chat")["items"]
        if not s:
            return None
        eps = [e for e in s[0].get("endpoints") or [] if e["conditions"]["ready"]]
        return s[0] if len(eps) == 2 else None
    s = wait_for("endpoints", slice_ready)
    ips = sorted(e["addresses"][0] for e in s["endpoints"])
    assert ips == sorted(p["status"]["podIP"] for p in pods(gpu, "app=chat"))
    assert s["ports"][0]["port"] == 8000


def test_graceful_pod_deletion_and_replacement(gpu):
    victim = pods(gpu, "app=chat")[0]["metadata"]["name"]
    gpu.kubectl("delete", "pod", victim, "--timeout=30s")
    def replaced():
        ps = [p for p in pods(gpu, "app=chat") if ready(p)]
        return len(ps) == 2 and victim not in [p["metadata"]["name"] for p in ps]
    wait_for("a replacement", replaced)


def test_fault_annotation_slows_a_pod(gpu):
    p = pods(gpu, "app=chat")[0]
    ip = p["status"]["podIP"]
    _, fast = http(f"http://{ip}:8000/v1/completions", {"prompt": "x" * 400, "max_tokens": 8})
    gpu.kubectl("annotate", "pod", p["metadata"]["name"], "sim.llmops.io/slowdown=3")
    def slow():
        _, text = http(f"http://{ip}:8000/v1/completions", {"prompt": "x" * 400, "max_tokens": 8})
        return json.loads(text)["llmops_timing"]["e2e_seconds"] > 2.5 * json.loads(fast)["llmops_timing"]["e2e_seconds"]
    wait_for("the slowdown", slow, timeout=10)
    gpu.kubectl("annotate", "pod", p["metadata"]["name"], "sim.llmops.io/error-rate=1")
    def failing():
        try:
            http(f"http://{ip}:8000/v1/completions", {"prompt": "x", "max_tokens": 2})
            return False
        except urllib.error.HTTPError as e:
            return e.code == 500
    wait_for("injected failures", failing, timeout=10)
    gpu.kubectl("annotate", "pod", p["metadata"]["name"], "sim.llmops.io/error-rate-", "sim.llmops.io/slowdown-")


def test_kill9_restart_keeps_pods_and_they_serve_again(gpu):
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in gpu.get_json("pods")["items"]}
    gpu.kill9()
    gpu.start()
    def settled():
        # Ready as reported by the new kubelet: statuses written before the kill still say
        # Ready until it has restarted each container (and counted the restart).
        items = gpu.get_json("pods")["items"]
        restarted = all(p["status"].get("containerStatuses", [{}])[0].get("restartCount", 0) >= 1
                        for p in items if p["metadata"].get("labels", {}).get("app") == "chat")
        return items if restarted and all(ready(p) or not p["spec"].get("nodeName") for p in items) else None
    items = wait_for("pods ready again", settled)
    after = {p["metadata"]["name"]: p["metadata"]["uid"] for p in items}
    assert after == before, "the same Pods, none added or lost"
    chat = pods(gpu, "app=chat")
    assert all(p["status"]["containerStatuses"][0]["restartCount"] >= 1 for p in chat)
    status, _ = http(f"http://{chat[0]['status']['podIP']}:8000/health")
    assert status == 200


def test_failed_node_pods_move_elsewhere(gpu):
    chat = pods(gpu, "app=chat")
    node = chat[0]["spec"]["nodeName"]
    gpu.kubectl("annotate", "node", node, "sim.llmops.io/failed=true")
    wait_for("node NotReady", lambda: "NotReady" in gpu.kubectl("get", "node", node).stdout, timeout=30)
    def moved():
        ps = [p for p in pods(gpu, "app=chat") if ready(p)]
        return len(ps) == 2 and all(p["spec"]["nodeName"] != node for p in ps)
    wait_for("pods rescheduled off the failed node", moved, timeout=30)
    taints = gpu.get_json("node", node)["spec"]["taints"]
    assert any(t["key"] == "node.kubernetes.io/unreachable" for t in taints)
    gpu.kubectl("annotate", "node", node, "sim.llmops.io/failed-")
    wait_for("node Ready again", lambda: " Ready " in gpu.kubectl("get", "node", node).stdout, timeout=30)

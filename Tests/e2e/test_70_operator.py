"""The operator end to end on `llmops up` (simulated GPU cluster, operator in-process), driven
with kubectl as an admin would: LLMDeployments become Deployments and a Service, status and
Events say what was decided and why, ScalingPolicies scale from measured vLLM metrics.

Modelled time runs 20x faster: an 8B model starts in about 2 s.
"""
import json
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from conftest import BIN, ROOT, gpu_plane
from test_60_gpu_cluster import wait_for

SPEED = 20
NS = "inference"


@pytest.fixture(scope="module")
def op():
    yield from gpu_plane("llmops-op-", "h100:2x8,l40s:2x4", "--time-scale", str(SPEED), namespaces=[NS])


def sample(name):
    return yaml.safe_load((ROOT / "manifests" / "samples" / name).read_text())


def llmd(name, replicas=1, **gpu):
    doc = sample("llmdeployment-llama-8b.yaml")
    doc["metadata"]["name"] = name
    doc["spec"]["replicas"] = replicas
    doc["spec"].pop("scalingPolicyRef", None)
    doc["spec"]["gpu"].update(gpu)
    return doc


def apply(cp, doc):
    cp.kubectl("apply", "-f", "-", stdin=json.dumps(doc))


def condition(obj, type_):
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == type_), None)


def ready_llmd(cp, name, replicas):
    def check():
        o = cp.get_json("llmd", "-n", NS, name)
        c = condition(o, "Ready")
        return o if c and c["status"] == "True" and o["status"].get("readyReplicas") == replicas else None
    return wait_for(f"{name} ready with {replicas}", check, timeout=90)


def test_llmdeployment_becomes_a_vllm_deployment_and_service(op):
    apply(op, llmd("chat", replicas=2))
    o = ready_llmd(op, "chat", 2)
    s = o["status"]
    assert s["observedGeneration"] == o["metadata"]["generation"]
    assert s["gpuType"] in ("L40S", "A100-80GB") and s["tensorParallel"] in (1, 2, 4, 8)
    assert s["selector"] == "llmops.io/deployment=chat"
    assert s["costPerHour"] > 0 and s["capacity"]["requestsPerSecond"] > 0
    assert s["lastDecision"]["action"].startswith("Serve ") and "cheapest" in s["lastDecision"]["reason"]
    assert len(s["placement"]) == 2 and all(p["node"].startswith("gpu-") for p in s["placement"])
    assert condition(o, "Degraded")["status"] == "False"
    assert condition(o, "Progressing")["reason"] == "Complete"

    gpu = s["gpuType"]
    d = op.get_json("deployment", "-n", NS, f"chat-{gpu.lower()}")
    assert d["metadata"]["ownerReferences"][0]["kind"] == "LLMDeployment"
    pod = d["spec"]["template"]["spec"]
    c = pod["containers"][0]
    args = c["args"]
    for flag, value in [("--model", "meta-llama/Llama-3.1-8B-Instruct"), ("--tensor-parallel-size", str(s["tensorParallel"])),
                        ("--max-model-len", "16384"), ("--revision", "0e9e39f249a16976918f6564b8830bc894c89659")]:
        assert args[args.index(flag) + 1] == value, flag
    assert "--enable-prefix-caching" in args, "engine args from the spec are passed on"
    assert c["image"] == "vllm/vllm-openai:v0.8.5"
    assert c["ports"][0]["containerPort"] == 8000
    assert c["resources"]["limits"]["nvidia.com/gpu"] == str(s["tensorParallel"])
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert c[probe]["httpGet"]["path"] == "/health"
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 38 * 3
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][0]["key"] == "nvidia.com/gpu.product"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert any(v.get("emptyDir", {}).get("medium") == "Memory" for v in pod["volumes"])

    svc = op.get_json("service", "-n", NS, "chat")
    assert svc["spec"]["selector"] == {"llmops.io/deployment": "chat"}
    table = op.kubectl("get", "llmd", "-n", NS, "chat").stdout
    assert "chat" in table and gpu in table
    described = op.kubectl("describe", "llmd", "-n", NS, "chat").stdout
    assert "Decision" in described and "Serve " in described


def test_scale_subresource_and_hand_edits_are_reconciled(op):
    op.kubectl("scale", "llmd", "chat", "-n", NS, "--replicas=3")
    ready_llmd(op, "chat", 3)
    gpu = op.get_json("llmd", "-n", NS, "chat")["status"]["gpuType"].lower()
    # A hand edit of a field the operator owns is put back.
    op.kubectl("scale", "deployment", f"chat-{gpu}", "-n", NS, "--replicas=1")
    wait_for("replicas put back", lambda: op.get_json("deployment", "-n", NS, f"chat-{gpu}")["spec"]["replicas"] == 3)
    op.kubectl("scale", "llmd", "chat", "-n", NS, "--replicas=1")
    ready_llmd(op, "chat", 1)


def test_infeasible_spec_is_degraded_with_a_reason_and_keeps_what_runs(op):
    doc = llmd("huge", replicas=1, allowedTypes=["L4"])
    doc["spec"]["model"].update({"parameterCount": "405B", "name": "meta-llama/Llama-3.1-405B"})
    doc["spec"]["model"].pop("architecture")
    apply(op, doc)
    def degraded():
        o = op.get_json("llmd", "-n", NS, "huge")
        c = condition(o, "Degraded")
        return o if c and c["status"] == "True" else None
    o = degraded() or wait_for("degraded", degraded)
    c = condition(o, "Degraded")
    assert c["reason"] in ("NoFeasibleConfiguration", "InvalidSpec") and "L4" in c["message"], c
    assert condition(o, "Ready")["status"] == "False"
    events = op.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=huge,type=Warning").stdout
    assert c["reason"] in events
    assert op.get_json("deployments", "-n", NS, "-l", "llmops.io/deployment=huge")["items"] == []
    # A change the cluster cannot place (no A10G nodes here) leaves the running replicas serving.
    op.kubectl("patch", "llmd", "chat", "-n", NS, "--type=merge", "-p", json.dumps({"spec": {"gpu": {"allowedTypes": ["A10G"]}}}))
    wait_for("chat degraded", lambda: condition(op.get_json("llmd", "-n", NS, "chat"), "Degraded")["status"] == "True")
    assert op.get_json("llmd", "-n", NS, "chat")["status"]["readyReplicas"] == 1
    op.kubectl("patch", "llmd", "chat", "-n", NS, "--type=merge", "-p", json.dumps({"spec": {"gpu": {"allowedTypes": ["L40S", "A100-80GB"]}}}))
    wait_for("chat healthy again", lambda: condition(op.get_json("llmd", "-n", NS, "chat"), "Degraded")["status"] == "False")
    op.kubectl("delete", "llmd", "huge", "-n", NS)


def test_gpu_type_change_moves_replicas_without_dropping_service(op):
    apply(op, llmd("mover", replicas=1, allowedTypes=["L40S"]))
    ready_llmd(op, "mover", 1)
    op.kubectl("patch", "llmd", "mover", "-n", NS, "--type=merge", "-p", json.dumps({"spec": {"gpu": {"allowedTypes": ["H100"]}}}))
    def moved():
        o = op.get_json("llmd", "-n", NS, "mover")
        names = [d["metadata"]["name"] for d in op.get_json("deployments", "-n", NS, "-l", "llmops.io/deployment=mover")["items"]]
        return o if o["status"]["gpuType"] == "H100" and names == ["mover-h100"] and o["status"].get("readyReplicas") == 1 else None
    o = wait_for("moved to H100", moved, timeout=90)
    assert condition(o, "Ready")["status"] == "True"
    events = op.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=mover").stdout
    assert "RetiredGPUType" in events


def test_scaling_policy_scales_up_under_load_and_reports_why(op):
    apply(op, llmd("scaled", replicas=1, allowedTypes=["L40S"]))
    ready_llmd(op, "scaled", 1)
    policy = {
        "apiVersion": "llmops.io/v1alpha1", "kind": "ScalingPolicy", "metadata": {"name": "scaled", "namespace": NS},
        "spec": {"targetRef": {"name": "scaled"}, "minReplicas": 1, "maxReplicas": 4, "mode": "reactive",
                 "targets": {"queueDepthPerReplica": 4},
                 "scaleUp": {"stabilizationWindowSeconds": 0, "maxStep": 4, "periodSeconds": 5, "cooldownSeconds": 0},
                 "scaleDown": {"stabilizationWindowSeconds": 600, "maxStep": 1, "periodSeconds": 60, "cooldownSeconds": 0}},
    }
    apply(op, policy)
    wait_for("policy active", lambda: (condition(op.get_json("sp", "-n", NS, "scaled"), "AbleToScale") or {}).get("status") == "True")
    # 30 modelled seconds at 20 req/s of 1,000-token prompts: beyond one L40S replica.
    trace = Path(tempfile.mkdtemp()) / "burst.jsonl"
    trace.write_text("".join(json.dumps({"timestamp": i * 50, "input_length": 1000, "output_length": 100}) + "\n" for i in range(600)))
    out = subprocess.run([str(BIN), "load", "--trace", str(trace), "--service", f"{NS}/scaled", "--speed", str(SPEED), "--time-scale", str(SPEED)],
                         capture_output=True, text=True, timeout=120, env=op.env())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "600 sent" in out.stdout and "TTFT" in out.stdout
    sp = wait_for("a scale-up", lambda: (lambda s: s if s["status"].get("history") else None)(op.get_json("sp", "-n", NS, "scaled")), timeout=30)
    h = sp["status"]["history"][0]
    assert h["fromReplicas"] == 1 and h["toReplicas"] > 1 and "scale up" in h["reason"]
    # Capacity per replica is computed at the request mix the engines report, not the design's.
    # The first scale-up may come from the queue before a rate was measured: look at every one.
    sp = wait_for("a scale-up sized on the measured mix", lambda: (lambda s: s if any(
        "measured mix" in e["reason"] for e in s["status"].get("history", [])) else None)(op.get_json("sp", "-n", NS, "scaled")), timeout=30)
    mix = next(m for m in (re.search(r"at the measured mix of (\d+) prompt / (\d+) output tokens", e["reason"])
                           for e in sp["status"]["history"]) if m)
    assert mix and 900 <= int(mix.group(1)) <= 1100 and 50 <= int(mix.group(2)) <= 150, json.dumps(sp["status"])
    assert op.get_json("llmd", "-n", NS, "scaled")["spec"]["replicas"] > 1
    assert sp["status"]["recommendedReplicas"] >= 1
    events = op.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=scaled,reason=ScaledUp").stdout
    assert "ScaledUp" in events


def test_second_policy_on_one_target_reports_a_conflict(op):
    apply(op, {"apiVersion": "llmops.io/v1alpha1", "kind": "ScalingPolicy", "metadata": {"name": "scaled-too", "namespace": NS},
               "spec": {"targetRef": {"name": "scaled"}, "minReplicas": 1, "maxReplicas": 2}})
    def conflict():
        c = condition(op.get_json("sp", "-n", NS, "scaled-too"), "AbleToScale")
        return c if c and c["reason"] == "ConflictingPolicy" else None
    c = wait_for("conflict", conflict)
    assert c["status"] == "False" and "scaled" in c["message"]
    assert condition(op.get_json("sp", "-n", NS, "scaled"), "AbleToScale")["status"] == "True"
    op.kubectl("delete", "sp", "scaled-too", "-n", NS)


def test_metrics_outage_holds_replicas(op):
    before = op.get_json("llmd", "-n", NS, "scaled")["spec"]["replicas"]
    for p in op.get_json("pods", "-n", NS, "-l", "llmops.io/deployment=scaled")["items"]:
        op.kubectl("annotate", "pod", "-n", NS, p["metadata"]["name"], "sim.llmops.io/metrics-down=true", "--overwrite")
    def unavailable():
        c = condition(op.get_json("sp", "-n", NS, "scaled"), "MetricsUnavailable")
        return c if c and c["status"] == "True" else None
    wait_for("MetricsUnavailable", unavailable, timeout=30)
    time.sleep(2)
    assert op.get_json("llmd", "-n", NS, "scaled")["spec"]["replicas"] == before


def test_deleting_an_llmdeployment_removes_its_children(op):
    op.kubectl("delete", "llmd", "mover", "-n", NS)
    wait_for("children gone", lambda: not op.get_json("deployments", "-n", NS, "-l", "llmops.io/deployment=mover")["items"]
             and not op.get_json("pods", "-n", NS, "-l", "llmops.io/deployment=mover")["items"], timeout=60)
    assert op.kubectl("get", "service", "-n", NS, "mover", check=False).returncode != 0


def load_in_background(cp, service, requests=8000, every_ms=100):
    trace = Path(tempfile.mkdtemp()) / "canary.jsonl"
    trace.write_text("".join(json.dumps({"timestamp": i * every_ms, "input_length": 500, "output_length": 64}) + "\n" for i in range(requests)))
    return subprocess.Popen([str(BIN), "load", "--trace", str(trace), "--service", f"{NS}/{service}", "--speed", str(SPEED), "--time-scale", str(SPEED)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=cp.env())


def canary_run(name, target, revision, approval=False):
    return {
        "apiVersion": "llmops.io/v1alpha1", "kind": "CanaryRun", "metadata": {"name": name, "namespace": NS},
        "spec": {"targetRef": {"name": target}, "revision": revision,
                 "steps": [{"weight": 34, "durationSeconds": 60, "minSamples": 100}, {"weight": 50, "durationSeconds": 60, "minSamples": 100}],
                 "analysis": {"intervalSeconds": 10, "test": "sequential", "maxRegression": 0.1, "confidence": 0.99},
                 "approval": {"required": approval}},
    }


def phase_is(cp, name, *phases):
    def check():
        o = cp.get_json("canaryrun", "-n", NS, name)
        s = o.get("status", {})
        assert s.get("phase") in phases, f"phase {s.get('phase')}: {s.get('message')}"
        return o
    return check


def test_healthy_canary_waits_for_approval_then_promotes(op):
    apply(op, llmd("canaried", replicas=2, allowedTypes=["H100"]))
    ready_llmd(op, "canaried", 2)
    load = load_in_background(op, "canaried")
    try:
        apply(op, canary_run("good", "canaried", {"modelRevision": "5f0b02c75b57c5855da9ae460ce51323ea669d8a"}, approval=True))
        o = wait_for("awaiting approval", phase_is(op, "good", "AwaitingApproval", "RolledBack"), timeout=90)
        assert o["status"]["phase"] == "AwaitingApproval", o["status"].get("message")
        steps = o["status"]["steps"]
        assert [s["verdict"] for s in steps] == ["pass", "pass"]
        # The second step runs for the spec's 60 s times the judge's pace after the first.
        assert "durationSeconds" not in steps[0] and steps[1]["durationSeconds"] in (30, 60, 90), steps[1]
        ttft = next(a for a in steps[0]["analyses"] if a["metric"] == "ttft")
        assert ttft["canarySamples"] >= 100 and ttft["baselineSamples"] >= 100 and 0 <= ttft["pValue"] <= 1
        assert op.get_json("deployment", "-n", NS, "canaried-canary-h100")["spec"]["replicas"] >= 1
        op.kubectl("annotate", "canaryrun", "-n", NS, "good", "llmops.io/approve=true")
        wait_for("promoted", phase_is(op, "good", "Promoted"), timeout=30)
    finally:
        load.kill()
    l = op.get_json("llmd", "-n", NS, "canaried")
    assert l["spec"]["model"]["revision"] == "5f0b02c75b57c5855da9ae460ce51323ea669d8a"
    wait_for("canary removed after the rollout", lambda: op.kubectl("get", "deployment", "-n", NS, "canaried-canary-h100", check=False).returncode != 0, timeout=90)
    d = op.get_json("deployment", "-n", NS, "canaried-h100")
    args = d["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--revision") + 1] == "5f0b02c75b57c5855da9ae460ce51323ea669d8a"
    ready_llmd(op, "canaried", 2)
    events = op.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=good").stdout
    for reason in ("Started", "StepPassed", "AwaitingApproval", "Promoted"):
        assert reason in events, reason


def test_slower_canary_is_rolled_back(op):
    load = load_in_background(op, "canaried")
    try:
        apply(op, canary_run("slow", "canaried", {"image": "vllm/vllm-openai:v0.9.0"}))
        def canary_pods():
            ps = op.get_json("pods", "-n", NS, "-l", "llmops.io/deployment=canaried,llmops.io/track=canary")["items"]
            return ps if ps else None
        for p in wait_for("canary pods", canary_pods, timeout=30):
            op.kubectl("annotate", "pod", "-n", NS, p["metadata"]["name"], "sim.llmops.io/slowdown=2")
        o = wait_for("rolled back", phase_is(op, "slow", "RolledBack", "Promoted", "AwaitingApproval"), timeout=120)
    finally:
        load.kill()
    assert o["status"]["phase"] == "RolledBack", o["status"].get("message")
    assert "regressed" in o["status"]["message"]
    assert o["status"]["steps"][-1]["verdict"] == "fail"
    wait_for("canary removed", lambda: op.kubectl("get", "deployment", "-n", NS, "canaried-canary-h100", check=False).returncode != 0, timeout=30)
    assert op.get_json("llmd", "-n", NS, "canaried")["spec"]["engine"]["image"] == "vllm/vllm-openai:v0.8.5"
    events = op.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=slow,type=Warning").stdout
    assert "Regressed" in events


def test_abort_annotation_rolls_back(op):
    apply(op, canary_run("aborted", "canaried", {"image": "vllm/vllm-openai:v0.9.1"}))
    wait_for("progressing", phase_is(op, "aborted", "Progressing"), timeout=30)
    op.kubectl("annotate", "canaryrun", "-n", NS, "aborted", "llmops.io/abort=true")
    o = wait_for("aborted", phase_is(op, "aborted", "RolledBack"), timeout=30)
    assert "aborted" in o["status"]["message"]
    wait_for("canary removed", lambda: op.kubectl("get", "deployment", "-n", NS, "canaried-canary-h100", check=False).returncode != 0, timeout=30)


def test_gitops_apply_without_replicas_leaves_the_scalers_count(op):
    # As with an HPA: a manifest synced by server-side apply that leaves spec.replicas out
    # does not fight the count the scaler wrote through the scale subresource.
    doc = llmd("gitops", replicas=1, allowedTypes=["H100"])
    op.kubectl("apply", "--server-side", "--field-manager=argocd", "-f", "-", stdin=json.dumps(doc))
    ready_llmd(op, "gitops", 1)
    op.kubectl("scale", "llmd", "gitops", "-n", NS, "--replicas=2")
    del doc["spec"]["replicas"]
    op.kubectl("apply", "--server-side", "--field-manager=argocd", "-f", "-", stdin=json.dumps(doc))
    assert op.get_json("llmd", "-n", NS, "gitops")["spec"]["replicas"] == 2
    ready_llmd(op, "gitops", 2)
    # A manifest that does set replicas takes them back: the trap the README warns about.
    doc["spec"]["replicas"] = 1
    out = op.kubectl("apply", "--server-side", "--field-manager=argocd", "-f", "-", stdin=json.dumps(doc), check=False)
    assert out.returncode == 0 or "conflict" in out.stderr.lower()
    op.kubectl("delete", "llmd", "gitops", "-n", NS)



def test_expected_load_chooses_the_gpu_type_and_bad_values_are_refused(op):
    # A small chat load is served on the cheapest GPU that meets the SLO; long prompts need
    # compute: the same deployment moves to H100s when its expected load says so.
    doc = llmd("sized", replicas=1, allowedTypes=["L40S", "H100"])
    doc["spec"]["expectedLoad"] = {"requestsPerSecond": 0.5, "meanInputTokens": 300, "meanOutputTokens": 100}
    apply(op, doc)
    # The decision is what is checked, not readiness: earlier tests may hold the GPUs.
    def decided(gpu):
        o = op.get_json("llmd", "-n", NS, "sized")
        return o if o.get("status", {}).get("gpuType") == gpu and o["status"].get("lastDecision") else None
    o = wait_for("sized on L40S", lambda: decided("L40S"), timeout=90)
    decision = o["status"]["lastDecision"]
    assert decision["inputs"]["designLoad"] == "0.5 req/s of 300 in / 100 out tokens", decision
    assert "spec.expectedLoad" in decision["reason"]
    op.kubectl("patch", "llmd", "sized", "-n", NS, "--type=merge", "-p",
               json.dumps({"spec": {"expectedLoad": {"requestsPerSecond": 3, "meanInputTokens": 6000, "meanOutputTokens": 200}}}))
    o = wait_for("moved to H100", lambda: decided("H100"), timeout=90)
    assert o["status"]["lastDecision"]["inputs"]["designLoad"] == "3 req/s of 6000 in / 200 out tokens"
    # llmops plan gives the same answer without a cluster.
    planned = subprocess.run([str(BIN), "plan", "-f", "-", "-o", "json"], input=json.dumps(o), capture_output=True, text=True, check=True)
    chosen = json.loads(planned.stdout)["llmops"]
    assert (chosen["gpuType"], chosen["tensorParallel"]) == ("H100", o["status"]["tensorParallel"])
    # Requests arriving in groups of eight wait behind their group: the design says so, it
    # costs more than the same load arriving one at a time, and plan agrees with the operator.
    alone = json.loads(planned.stdout)["llmops"]["costPerHour"]
    op.kubectl("patch", "llmd", "sized", "-n", NS, "--type=merge", "-p", json.dumps({"spec": {"expectedLoad": {"requestsPerGroup": 8}}}))
    def grouped():
        g = op.get_json("llmd", "-n", NS, "sized")
        d = g.get("status", {}).get("lastDecision", {})
        return g if d.get("inputs", {}).get("designLoad") == "3 req/s of 6000 in / 200 out tokens, in groups of 8" else None
    g = wait_for("designed for groups", grouped, timeout=90)
    planned = subprocess.run([str(BIN), "plan", "-f", "-", "-o", "json"], input=json.dumps(g), capture_output=True, text=True, check=True)
    plan = json.loads(planned.stdout)
    assert plan["designLoad"]["requestsPerGroup"] == 8 and plan["llmops"]["costPerHour"] > alone, plan
    assert (plan["llmops"]["gpuType"], plan["llmops"]["tensorParallel"]) == (g["status"]["gpuType"], g["status"]["tensorParallel"]), (plan, g["status"])
    # A bad value is refused with its field path; what is stored stays.
    bad = op.kubectl("patch", "llmd", "sized", "-n", NS, "--type=merge", "-p", json.dumps({"spec": {"expectedLoad": {"requestsPerSecond": 0}}}), check=False)
    assert bad.returncode != 0 and "spec.expectedLoad.requestsPerSecond" in bad.stderr, bad.stderr
    bad = op.kubectl("patch", "llmd", "sized", "-n", NS, "--type=merge", "-p", json.dumps({"spec": {"expectedLoad": {"requestsPerGroup": 0.5}}}), check=False)
    assert bad.returncode != 0 and "spec.expectedLoad.requestsPerGroup" in bad.stderr, bad.stderr
    stored = op.get_json("llmd", "-n", NS, "sized")["spec"]["expectedLoad"]
    assert stored["requestsPerSecond"] == 3 and stored["requestsPerGroup"] == 8, stored
    op.kubectl("delete", "llmd", "sized", "-n", NS)


def test_traffic_unlike_the_design_load_is_reported_with_the_configuration_it_needs(op):
    # Designed for the default chat load (H100x1), serving 6,000-token prompts it cannot meet
    # the SLO on: after ten minutes of traffic the ScalingPolicy says which configuration the
    # observed load needs and the spec.expectedLoad that adopts it, without changing anything.
    apply(op, llmd("review", replicas=1, allowedTypes=["H100"]))
    ready_llmd(op, "review", 1)
    apply(op, {"apiVersion": "llmops.io/v1alpha1", "kind": "ScalingPolicy", "metadata": {"name": "review", "namespace": NS},
               "spec": {"targetRef": {"name": "review"}, "minReplicas": 1, "maxReplicas": 1}})
    trace = Path(tempfile.mkdtemp()) / "long.jsonl"
    trace.write_text("".join(json.dumps({"timestamp": i * 1000, "input_length": 6000, "output_length": 200}) + "\n" for i in range(660)))
    out = subprocess.run([str(BIN), "load", "--trace", str(trace), "--service", f"{NS}/review", "--speed", str(SPEED), "--time-scale", str(SPEED)],
                         capture_output=True, text=True, timeout=180, env=op.env())
    assert out.returncode == 0, out.stdout + out.stderr
    def flagged():
        c = condition(op.get_json("sp", "-n", NS, "review"), "ConfigurationFitsLoad")
        return c if c and c["status"] == "False" else None
    c = wait_for("a configuration review", flagged, timeout=60)
    assert c["reason"] == "CheaperConfigurationForObservedLoad", c
    assert "H100×1 cannot meet the SLO" in c["message"] and "H100×4 would cost" in c["message"], c["message"]
    assert "meanInputTokens: 6000" in c["message"], c["message"]
    events = op.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=review,reason=CheaperConfiguration").stdout
    assert "CheaperConfiguration" in events
    # Nothing was changed: the spec and the running configuration stay as written.
    o = op.get_json("llmd", "-n", NS, "review")
    assert "expectedLoad" not in o["spec"] and o["status"]["gpuType"] == "H100" and o["status"]["tensorParallel"] == 1
    op.kubectl("delete", "sp,llmd", "review", "-n", NS)

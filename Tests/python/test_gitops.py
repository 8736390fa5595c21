"""The GitOps directory: Argo CD's health checks for the three kinds (run in Lua 5.1, the
dialect Argo CD's interpreter speaks) map the operator's conditions to Healthy, Progressing,
Degraded and Suspended; the directory renders with kustomize and carries the checks under the
keys Argo CD reads."""
import subprocess
from pathlib import Path

import pytest
import yaml
from lupa import lua51

ROOT = Path(__file__).resolve().parents[2]
GITOPS = ROOT / "manifests" / "gitops"


def health(kind, obj):
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    script = (GITOPS / "argocd" / "health" / f"{kind}.lua").read_text()

    def to_lua(v):
        if isinstance(v, dict):
            return lua.table_from({k: to_lua(x) for k, x in v.items()})
        if isinstance(v, list):
            return lua.table_from([to_lua(x) for x in v])
        return v

    lua.globals().obj = to_lua(obj)
    result = lua.execute(script)
    return result["status"], result["message"]


def cond(type_, status, reason="R", message="m"):
    return {"type": type_, "status": status, "reason": reason, "message": message}


def llmd(conditions=None, generation=1, observed=1):
    o = {"metadata": {"name": "x", "generation": generation}}
    if conditions is not None:
        o["status"] = {"observedGeneration": observed, "conditions": conditions}
    return o


@pytest.mark.parametrize("obj,expected", [
    (llmd(), "Progressing"),
    (llmd([cond("Ready", "True", "ReplicasReady", "2/2 ready"), cond("Progressing", "False", "Complete"), cond("Degraded", "False")]), "Healthy"),
    (llmd([cond("Ready", "False"), cond("Progressing", "True", "RollingOut", "1/2 updated"), cond("Degraded", "False")]), "Progressing"),
    (llmd([cond("Ready", "False"), cond("Degraded", "True", "NoFeasibleConfiguration", "no GPU fits")]), "Degraded"),
    (llmd([cond("Ready", "True"), cond("Progressing", "False"), cond("Degraded", "False")], generation=2, observed=1), "Progressing"),
    (llmd([cond("Ready", "False", "ScaledToZero", "no replicas requested"), cond("Degraded", "False")]), "Suspended"),
])
def test_llmdeployment_health(obj, expected):
    status, message = health("llmdeployment", obj)
    assert status == expected, message


def test_degraded_message_carries_the_reason():
    _, message = health("llmdeployment", llmd([cond("Degraded", "True", "Unschedulable", "0/4 nodes are available")]))
    assert message == "Unschedulable: 0/4 nodes are available"


@pytest.mark.parametrize("conditions,expected", [
    (None, "Progressing"),
    ([cond("AbleToScale", "True"), cond("ScalingActive", "True", "ValidMetricFound", "hold at 2")], "Healthy"),
    ([cond("AbleToScale", "False", "ConflictingPolicy", "older policy governs")], "Degraded"),
    ([cond("AbleToScale", "True"), cond("ScalingActive", "False"), cond("MetricsUnavailable", "True", "NoFreshMetrics", "holding")], "Progressing"),
])
def test_scalingpolicy_health(conditions, expected):
    obj = {"metadata": {"name": "x"}}
    if conditions is not None:
        obj["status"] = {"conditions": conditions}
    assert health("scalingpolicy", obj)[0] == expected


@pytest.mark.parametrize("phase,expected", [
    (None, "Progressing"), ("Pending", "Progressing"), ("Progressing", "Progressing"), ("AwaitingApproval", "Suspended"),
    ("Paused", "Suspended"), ("Promoted", "Healthy"), ("RolledBack", "Degraded"), ("Failed", "Degraded"),
])
def test_canaryrun_health(phase, expected):
    obj = {"metadata": {"name": "x"}, "status": {"phase": phase}} if phase else {"metadata": {"name": "x"}}
    assert health("canaryrun", obj)[0] == expected


def test_every_canary_phase_has_a_health():
    """A phase added to the API without a health mapping would show as Progressing forever."""
    import re
    text = (ROOT / "Sources" / "LLMOpsAPI" / "CanaryRun.swift").read_text()
    phases = re.search(r"enum CanaryPhase[^{]*\{\s*case ([^\n]+)", text).group(1).replace(" ", "").split(",")
    script = (GITOPS / "argocd" / "health" / "canaryrun.lua").read_text()
    for p in phases:
        if p not in ("Pending", "Progressing"):
            assert f'"{p}"' in script, f"canaryrun.lua has no mapping for phase {p}"


def test_argocd_directory_renders_with_the_health_keys():
    out = subprocess.run(["kubectl", "kustomize", str(GITOPS / "argocd")], capture_output=True, text=True, check=True).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    assert cm["metadata"]["name"] == "argocd-cm" and cm["metadata"]["namespace"] == "argocd"
    for kind in ("LLMDeployment", "ScalingPolicy", "CanaryRun"):
        assert f"resource.customizations.health.llmops.io_{kind}" in cm["data"]
    apps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Application"}
    assert apps["llmops"]["spec"]["source"]["path"] == "manifests/default"
    assert (ROOT / apps["llmops"]["spec"]["source"]["path"]).is_dir()
    assert {"group": "llmops.io", "kind": "LLMDeployment", "jsonPointers": ["/spec/replicas"]} in apps["models"]["spec"]["ignoreDifferences"]


def test_flux_points_at_the_kustomize_base():
    docs = list(yaml.safe_load_all((GITOPS / "flux" / "llmops.yaml").read_text()))
    k = next(d for d in docs if d["kind"] == "Kustomization")
    assert (ROOT / k["spec"]["path"]).resolve() == (ROOT / "manifests" / "default").resolve()

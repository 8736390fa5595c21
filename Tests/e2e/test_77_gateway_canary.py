"""A CanaryRun that splits traffic by Gateway API weights (`spec.trafficRouting.gatewayAPI`)
on `llmops up` (operator in-process, modelled time x20): the user's HTTPRoute gets a Service
per track weighted by the step, keeps its own matches, and gets the LLMDeployment's Service
back when the run ends. The HTTPRoute CRD is a structural subset of the upstream one
(fixtures/gateway-httproute-crd.yaml): the upstream CRD's CEL needs issue 15.
"""

import pytest

from conftest import ROOT, gpu_plane
from test_60_gpu_cluster import wait_for
from test_70_operator import NS, SPEED, apply, canary_run, llmd, load_in_background, phase_is, ready_llmd

REVISION = {"modelRevision": "5f0b02c75b57c5855da9ae460ce51323ea669d8a"}


@pytest.fixture(scope="module")
def op():
    for plane in gpu_plane("llmops-gw-", "h100:2x8", "--time-scale", str(SPEED), namespaces=[NS]):
        plane.kubectl("apply", "-f", str(ROOT / "Tests" / "e2e" / "fixtures" / "gateway-httproute-crd.yaml"))
        yield plane


def route(name, service):
    return {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": name, "namespace": NS},
        "spec": {
            "parentRefs": [{"name": "inference-gateway"}], "hostnames": ["chat.example.com"],
            "rules": [
                {"matches": [{"path": {"type": "PathPrefix", "value": "/v1"}}], "backendRefs": [{"name": service, "port": 8000}]},
                {"matches": [{"path": {"type": "PathPrefix", "value": "/metrics"}}], "backendRefs": [{"name": "other", "port": 9090}]},
            ],
        },
    }


def backends(cp, name):
    rules = cp.get_json("httproute", "-n", NS, name)["spec"]["rules"]
    return [[(b["name"], b.get("port"), b.get("weight")) for b in r["backendRefs"]] for r in rules]


def test_steps_weight_the_httproute_and_the_end_restores_it(op):
    apply(op, llmd("routed", replicas=2, allowedTypes=["H100"]))
    ready_llmd(op, "routed", 2)
    apply(op, route("chat", "routed"))
    load = load_in_background(op, "routed")
    try:
        run = canary_run("weighted", "routed", REVISION)
        run["spec"]["steps"] = [{"weight": 25, "durationSeconds": 60, "minSamples": 100}]
        run["spec"]["trafficRouting"] = {"gatewayAPI": {"httpRoute": "chat"}}
        apply(op, run)
        wait_for("the step's weights on the route", lambda: backends(op, "chat")[0] == [("routed-stable", 8000, 75), ("routed-canary", 8000, 25)], timeout=60)
        # Other rules and the route's own matches are the user's.
        r = op.get_json("httproute", "-n", NS, "chat")
        assert r["spec"]["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/v1"}}]
        assert backends(op, "chat")[1] == [("other", 9090, 1)]
        stable = op.get_json("service", "-n", NS, "routed-stable")
        assert stable["spec"]["selector"] == {"llmops.io/deployment": "routed", "llmops.io/track": "stable"}
        assert stable["metadata"]["ownerReferences"][0]["kind"] == "CanaryRun"
        canary_svc = op.get_json("service", "-n", NS, "routed-canary")
        assert canary_svc["spec"]["selector"]["llmops.io/track"] == "canary"
        status = op.get_json("canaryrun", "-n", NS, "weighted")["status"]
        assert "HTTPRoute chat" in status["strategyReason"] and status["currentWeight"] == 25
        wait_for("promoted", phase_is(op, "weighted", "Promoted"), timeout=120)
    finally:
        load.kill()
    wait_for("the LLMDeployment's Service back on the route", lambda: backends(op, "chat")[0] == [("routed", 8000, 1)], timeout=30)
    wait_for("the track Services gone", lambda: op.kubectl("get", "service", "-n", NS, "routed-stable", "routed-canary", check=False).returncode != 0, timeout=30)
    assert op.get_json("llmd", "-n", NS, "routed")["spec"]["model"]["revision"] == REVISION["modelRevision"]


def test_a_missing_route_fails_the_run_with_the_reason(op):
    run = canary_run("lost", "routed", {"modelRevision": "0000000000000000000000000000000000000001"})
    run["spec"]["trafficRouting"] = {"gatewayAPI": {"httpRoute": "nowhere"}}
    apply(op, run)
    o = wait_for("failed", phase_is(op, "lost", "Failed"), timeout=60)
    assert o["status"]["message"] == f"HTTPRoute nowhere not found in namespace {NS}"
    assert any(c["reason"] == "HTTPRouteNotFound" for c in o["status"]["conditions"])
    wait_for("the canary removed", lambda: op.kubectl("get", "deployment", "-n", NS, "routed-canary-h100", check=False).returncode != 0, timeout=30)

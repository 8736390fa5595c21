"""Scale to zero and back on `llmops up` (operator in-process, modelled time x20): an idle
LLMDeployment loses its last replica, its Service then points at the operator's activator
(an EndpointSlice), and the first request is held through the cold start, brings a replica
back with the reason in the ScalingPolicy's history, and is answered by the new replica.
"""
import json
import threading
import time
import urllib.request

import pytest

from conftest import gpu_plane
from test_60_gpu_cluster import wait_for
from test_70_operator import apply, llmd

SPEED = 20
NS = "zero"


@pytest.fixture(scope="module")
def op():
    yield from gpu_plane("llmops-zero-", "h100:1x8,l40s:1x4", "--time-scale", str(SPEED), namespaces=[NS])


def policy(name, target):
    return {
        "apiVersion": "llmops.io/v1alpha1", "kind": "ScalingPolicy", "metadata": {"name": name, "namespace": NS},
        "spec": {
            "targetRef": {"name": target}, "minReplicas": 0, "maxReplicas": 2, "mode": "reactive",
            "scaleDown": {"stabilizationWindowSeconds": 0, "maxStep": 4, "periodSeconds": 15, "cooldownSeconds": 0},
            "scaleToZero": {"enabled": True, "idleSeconds": 60},
        },
    }


def activator_slice(cp, name):
    slices = cp.get_json("endpointslices", "-n", NS, "-l", f"kubernetes.io/service-name={name},endpointslice.kubernetes.io/managed-by=activator.llmops.io")["items"]
    return slices[0] if slices else None


def test_idle_deployment_scales_to_zero_and_the_first_request_brings_it_back(op):
    doc = llmd("idle", replicas=1)
    doc["metadata"]["namespace"] = NS
    apply(op, doc)
    apply(op, policy("idle", "idle"))
    # Idle for 60 modelled seconds (3 s here): the last replica goes.
    wait_for("scale to zero", lambda: op.get_json("llmd", "idle", "-n", NS)["spec"]["replicas"] == 0, timeout=120)
    wait_for("the serving Pods to go", lambda: not op.get_json("pods", "-n", NS, "-l", "llmops.io/deployment=idle")["items"], timeout=60)
    history = op.get_json("sp", "idle", "-n", NS)["status"]["history"]
    assert history[-1]["toReplicas"] == 0 and "scale to zero" in history[-1]["reason"]

    # The Service now leads to the activator.
    s = wait_for("the activator's EndpointSlice", lambda: activator_slice(op, "idle"), timeout=30)
    address, port = s["endpoints"][0]["addresses"][0], s["ports"][0]["port"]
    assert s["ports"][0]["name"] == "http" and s["endpoints"][0]["conditions"]["ready"] is True
    assert s["metadata"]["ownerReferences"][0]["kind"] == "LLMDeployment"
    events = op.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=idle,reason=Activating", "-o", "name").stdout
    assert events.strip(), "no Activating event on the LLMDeployment"

    answer = {}

    def send():
        body = json.dumps({"model": "meta-llama/Llama-3.1-8B-Instruct", "prompt": "Hello there", "max_tokens": 8}).encode()
        request = urllib.request.Request(f"http://{address}:{port}/v1/completions", data=body, headers={"Content-Type": "application/json"})
        started = time.time()
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                answer.update(status=r.status, body=json.loads(r.read()), seconds=time.time() - started)
        except Exception as e:  # noqa: BLE001 - reported below
            answer.update(error=repr(e))

    t = threading.Thread(target=send)
    t.start()
    # The held request is demand: one replica comes back, the cold start in the reason.
    wait_for("scale from zero", lambda: op.get_json("llmd", "idle", "-n", NS)["spec"]["replicas"] == 1, timeout=30)
    t.join(timeout=120)
    assert answer.get("status") == 200, answer
    assert answer["body"]["choices"][0]["text"]
    # Held through a cold start of about 46 modelled seconds (2.3 s here).
    assert answer["seconds"] > 1.0, answer
    up = op.get_json("sp", "idle", "-n", NS)["status"]["history"]
    woke = next(h for h in reversed(up) if h["fromReplicas"] == 0 and h["toReplicas"] == 1)
    assert "held by the activator" in woke["reason"] and "cold start" in woke["reason"], woke
    # A replica serves: the Service leads to it alone again.
    wait_for("the activator's EndpointSlice to go", lambda: activator_slice(op, "idle") is None, timeout=30)
    assert op.get_json("llmd", "idle", "-n", NS)["status"]["readyReplicas"] == 1


def test_a_deployment_at_zero_without_requests_stays_there(op):
    doc = llmd("parked", replicas=0)
    doc["metadata"]["namespace"] = NS
    apply(op, doc)
    apply(op, policy("parked", "parked"))
    wait_for("the activator's EndpointSlice", lambda: activator_slice(op, "parked"), timeout=30)
    time.sleep(3)  # 60 modelled seconds: several scaling periods without a request
    assert op.get_json("llmd", "parked", "-n", NS)["spec"]["replicas"] == 0
    sp = op.get_json("sp", "parked", "-n", NS)
    assert not [h for h in sp["status"].get("history", []) if h["toReplicas"] > 0]

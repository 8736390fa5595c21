"""`forecaster: neural` in a ScalingPolicy, on `llmops up` (operator in-process, modelled time
x20): an opt-in (held-out tests keep it off by default) that the operator trains online."""

import pytest

from conftest import gpu_plane
from test_60_gpu_cluster import wait_for
from test_70_operator import NS, SPEED, apply, llmd, ready_llmd, sample


@pytest.fixture(scope="module")
def op():
    yield from gpu_plane("llmops-neural-", "h100:1x8,l40s:1x4", "--time-scale", str(SPEED), namespaces=[NS])


def test_neural_forecaster_is_an_opt_in_that_trains_online(op):
    """`forecaster: neural`: Holt forecasts while the network fills its window, then the
    network, trained on every observed period; status names which one spoke."""
    apply(op, llmd("forecast", replicas=1))
    ready_llmd(op, "forecast", 1)
    sp = sample("scalingpolicy-hybrid.yaml")
    sp["metadata"]["name"] = "forecast"
    sp["spec"]["targetRef"]["name"] = "forecast"
    sp["spec"]["mode"] = "predictive"
    sp["spec"]["forecast"]["forecaster"] = "neural"
    apply(op, sp)

    def forecaster():
        return op.get_json("sp", "-n", NS, "forecast").get("status", {}).get("forecastLoad", {}).get("forecaster", "")
    warming = wait_for("Holt while the network warms up", lambda: (lambda f: f if f.startswith("holt (neural warming up") else None)(forecaster()), timeout=60)
    assert "periods seen" in warming
    # 12 periods of 15 modelled seconds: 9 s here.
    wait_for("the network to forecast", lambda: forecaster().startswith("neural"), timeout=90)
    assert op.get_json("sp", "-n", NS, "forecast")["status"]["forecastLoad"]["requestsPerSecond"] >= 0

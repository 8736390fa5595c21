"""The three ways to install the operator hold the same objects, and they are secure by
default: `kubectl kustomize manifests/default` (what `kubectl apply -k` and Argo CD/Flux
render), `helm template` of charts/llmops with default values, and the Pod spec meets the
"restricted" Pod Security Standard."""
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = os.environ.get("HELM", str(ROOT / ".build" / "tools" / "helm"))
CHART = str(ROOT / "charts" / "llmops")


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"{' '.join(args)}:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def objects(text):
    return {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in yaml.safe_load_all(text) if o}


def kustomize(directory):
    return objects(run("kubectl", "kustomize", str(ROOT / "manifests" / directory)))


def helm_template(*extra):
    if not os.access(HELM, os.X_OK):
        pytest.skip(f"{HELM} is missing: run hack/get-helm.sh")
    return objects(run(HELM, "template", "llmops", CHART, "-n", "llmops-system", "--include-crds", *extra))


def test_helm_and_kustomize_render_the_same_objects():
    k = kustomize("default")
    h = helm_template()
    # Helm installs into a namespace it is given (--create-namespace); kustomize creates it.
    k_ns = k.pop(("Namespace", None, "llmops-system"))
    assert k_ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert sorted(k) == sorted(h)
    for key in k:
        assert k[key] == h[key], f"{key} differs between manifests/default and the chart:\n{json.dumps(k[key], indent=1)}\n{json.dumps(h[key], indent=1)}"


def test_the_operator_pod_meets_the_restricted_pod_security_standard():
    d = kustomize("default")[("Deployment", "llmops-system", "llmops-operator")]
    pod = d["spec"]["template"]["spec"]
    assert d["spec"]["replicas"] == 2 and "--leader-elect" in pod["containers"][0]["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("volumes", [])
    for c in pod["containers"]:
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True and sc["capabilities"]["drop"] == ["ALL"]
        assert c["resources"]["requests"] and c["resources"]["limits"]
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz" and c["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_rbac_grants_no_wildcards_and_no_secrets():
    k = kustomize("default")
    for kind in ("ClusterRole", "Role"):
        for key, o in k.items():
            if key[0] != kind:
                continue
            for rule in o["rules"]:
                for field in ("apiGroups", "resources", "verbs"):
                    assert "*" not in rule[field], f"{key}: wildcard in {field}"
                assert "secrets" not in rule["resources"], f"{key}: the operator reads no Secrets"
                assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"]), key


def test_service_monitor_overlay_and_chart_value():
    assert ("ServiceMonitor", "llmops-system", "llmops-operator") in kustomize("prometheus")
    assert ("ServiceMonitor", "llmops-system", "llmops-operator") not in helm_template()
    h = helm_template("--set", "serviceMonitor.enabled=true")
    assert h[("ServiceMonitor", "llmops-system", "llmops-operator")]["spec"]["endpoints"][0]["port"] == "metrics"


def test_chart_values_reach_the_operator():
    h = helm_template(
        "--set", "operator.prometheusURL=http://prometheus:9090", "--set", "operator.watchNamespaces={a,b}",
        "--set-json", "operator.gpuPrices={\"H100\": 2.5}", "--set", "operator.replicas=3", "--set", "operator.logLevel=debug")
    d = h[("Deployment", "llmops-system", "llmops-operator")]
    args = d["spec"]["template"]["spec"]["containers"][0]["args"]
    for a in ["--prometheus-url=http://prometheus:9090", "--watch-namespace=a", "--watch-namespace=b", "--gpu-prices=/etc/llmops/prices.yaml", "--log-level=debug"]:
        assert a in args
    assert d["spec"]["replicas"] == 3
    assert yaml.safe_load(h[("ConfigMap", "llmops-system", "llmops-gpu-prices")]["data"]["prices.yaml"]) == {"H100": 2.5}


@pytest.mark.parametrize("setting,expected", [
    ("operator.replicas=two", "replicas"),
    ("operator.logFormat=xml", "logFormat"),
    ("operator.prometheusURL=prometheus:9090", "prometheusURL"),
    ("operator.replicaCount=2", "replicaCount"),
])
def test_wrong_values_are_refused_with_the_field(setting, expected):
    if not os.access(HELM, os.X_OK):
        pytest.skip(f"{HELM} is missing: run hack/get-helm.sh")
    p = subprocess.run([HELM, "template", "llmops", CHART, "--set", setting], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0, f"helm accepted {setting}"
    assert "values don't meet the specifications of the schema" in p.stderr and expected in p.stderr, p.stderr


def test_helm_lint():
    if not os.access(HELM, os.X_OK):
        pytest.skip(f"{HELM} is missing: run hack/get-helm.sh")
    run(HELM, "lint", CHART, "--strict")

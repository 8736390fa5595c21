"""Helm 4 (hack/get-helm.sh) installs, upgrades and uninstalls the project's chart."""
import json
import os
import subprocess

from conftest import ROOT

HELM = os.environ.get("HELM", str(ROOT / ".build" / "tools" / "helm"))
CHART = str(ROOT / "charts" / "llmops")


def helm(cp, *args):
    p = subprocess.run([HELM, *args], capture_output=True, text=True, timeout=120, env=cp.env())
    assert p.returncode == 0, f"helm {' '.join(args)}:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def test_helm_install_upgrade_uninstall(cp):
    assert os.access(HELM, os.X_OK), f"{HELM} is missing: run hack/get-helm.sh"
    cp.kubectl("create", "namespace", "helm")
    # The operator's image does not run on this cluster (no nodes): install the API and samples.
    helm(cp, "install", "demo", CHART, "-n", "helm", "--set", "operator.enabled=false", "--set", "samples.enabled=true", "--wait", "--timeout", "60s")
    assert cp.kubectl("get", "crd", "llmdeployments.llmops.io", "-o", "name").returncode == 0
    assert cp.get_json("sp", "demo-chat", "-n", "helm")["spec"]["maxReplicas"] == 12
    helm(cp, "upgrade", "demo", CHART, "-n", "helm", "--set", "operator.enabled=false", "--set", "samples.enabled=true", "--set", "samples.maxReplicas=20", "--wait")
    assert cp.get_json("sp", "demo-chat", "-n", "helm")["spec"]["maxReplicas"] == 20
    releases = json.loads(helm(cp, "list", "-n", "helm", "-o", "json"))
    assert [(r["name"], r["status"], r["revision"]) for r in releases] == [("demo", "deployed", "2")]
    helm(cp, "uninstall", "demo", "-n", "helm", "--wait")
    assert cp.kubectl("get", "llmd,sp,secrets", "-n", "helm", "-o", "name").stdout.strip() == ""
    # Helm keeps CRDs from crds/ on uninstall, so other releases' resources survive.
    assert cp.kubectl("get", "crd", "llmdeployments.llmops.io", "-o", "name").returncode == 0


def test_kustomize_install_applies_and_reapplies_unchanged(cp):
    """`kubectl apply -k manifests/default` (what Argo CD or Flux apply from the directory):
    every object is accepted, and a second apply changes nothing."""
    first = cp.kubectl("apply", "--server-side", "-k", str(ROOT / "manifests" / "default"))
    assert first.returncode == 0, first.stderr
    assert "poddisruptionbudget.policy/llmops-operator serverside-applied" in first.stdout
    versions = {l for l in cp.kubectl("get", "deploy,sa,svc,pdb,netpol,role,rolebinding", "-n", "llmops-system", "-o",
                                      "jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{\"\\n\"}{end}").stdout.split()}
    again = cp.kubectl("apply", "--server-side", "-k", str(ROOT / "manifests" / "default"))
    assert again.returncode == 0, again.stderr
    after = {l for l in cp.kubectl("get", "deploy,sa,svc,pdb,netpol,role,rolebinding", "-n", "llmops-system", "-o",
                                   "jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{\"\\n\"}{end}").stdout.split()}
    assert len(versions) == 7 and after == versions
    rules = cp.get_json("clusterrole", "llmops-operator")["rules"]
    assert {"apiGroups": ["llmops.io"], "resources": ["llmdeployments/scale"], "verbs": ["patch"]} in rules

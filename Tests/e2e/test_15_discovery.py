"""Aggregated discovery (apidiscovery.k8s.io), categories and deletecollection."""
import http.client
import json
import ssl

from conftest import ROOT
from kubernetes import client, config

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"


def get(cp, path, accept):
    conn = http.client.HTTPSConnection("127.0.0.1", cp.port, context=ssl.create_default_context(cafile=cp.ca), timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {cp.token}", "Accept": accept})
    r = conn.getresponse()
    body = json.loads(r.read())
    return r.status, r.getheader("Content-Type"), body


def test_aggregated_documents_and_legacy_fallback(crds):
    status, ctype, apis = get(crds, "/apis", AGGREGATED)
    assert status == 200 and ctype == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    assert apis["kind"] == "APIGroupDiscoveryList" and apis["apiVersion"] == "apidiscovery.k8s.io/v2"
    groups = {g["metadata"]["name"]: g for g in apis["items"]}
    assert "" not in groups and {"apps", "llmops.io", "apiextensions.k8s.io", "events.k8s.io"} <= set(groups)
    llmops = groups["llmops.io"]["versions"][0]
    assert llmops["version"] == "v1alpha1" and llmops["freshness"] == "Current"
    llmd = next(r for r in llmops["resources"] if r["resource"] == "llmdeployments")
    assert llmd["scope"] == "Namespaced" and llmd["singularResource"] == "llmdeployment"
    assert llmd["responseKind"] == {"group": "llmops.io", "version": "v1alpha1", "kind": "LLMDeployment"}
    assert "llmops" in llmd["categories"] and "watch" in llmd["verbs"]
    subresources = {s["subresource"]: s for s in llmd["subresources"]}
    assert subresources["status"]["verbs"] == ["get", "patch", "update"]
    assert subresources["scale"]["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}

    status, ctype, core = get(crds, "/api", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList")
    assert ctype.endswith("v=v2beta1;as=APIGroupDiscoveryList") and core["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    [group] = core["items"]
    assert group["metadata"]["name"] == ""
    pods = next(r for r in group["versions"][0]["resources"] if r["resource"] == "pods")
    assert pods["categories"] == ["all"] and pods["shortNames"] == ["po"]

    # Clients that do not ask for the aggregated form get the legacy documents.
    _, ctype, legacy = get(crds, "/apis", "application/json")
    assert ctype == "application/json" and legacy["kind"] == "APIGroupList"


def test_kubectl_discovers_everything_in_two_requests(crds, tmp_path):
    """With the aggregated form, a cold kubectl reads /api and /apis and nothing per group."""
    out = crds.kubectl("api-resources", "--cache-dir", str(tmp_path), "-v=6").stderr
    gets = [line for line in out.splitlines() if "GET https://" in line]
    assert any("/api?" in line for line in gets) and any("/apis?" in line for line in gets), out
    assert not any("/apis/apps/v1" in line or "/apis/llmops.io/v1alpha1" in line for line in gets), out


def test_categories_select_kinds(crds):
    crds.kubectl("create", "namespace", "cats")
    sample = (ROOT / "manifests" / "samples" / "scalingpolicy-hybrid.yaml").read_text()
    crds.kubectl("apply", "-f", "-", stdin=sample.replace("namespace: inference", "namespace: cats"))
    crds.kubectl("create", "configmap", "not-in-all", "-n", "cats")
    names = crds.kubectl("api-resources", "--categories=llmops", "-o", "name").stdout.split()
    assert sorted(names) == ["canaryruns.llmops.io", "llmdeployments.llmops.io", "scalingpolicies.llmops.io"]
    listed = crds.kubectl("get", "llmops", "-n", "cats", "-o", "name").stdout.split()
    assert listed == ["scalingpolicy.llmops.io/llama-3-1-8b-chat"]
    # `all` holds the workload kinds only, as in Kubernetes: no ConfigMaps, no custom resources.
    everything = crds.kubectl("get", "all", "-n", "cats", "-o", "name").stdout.split()
    assert everything == []


def test_delete_collection_by_label(crds):
    api = config.new_client_from_config(config_file=crds.kubeconfig)
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="coll")))
    for name, team in [("a", "x"), ("b", "x"), ("c", "y")]:
        core.create_namespaced_config_map("coll", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels={"team": team})))
    core.delete_collection_namespaced_config_map("coll", label_selector="team=x")
    assert [c.metadata.name for c in core.list_namespaced_config_map("coll").items] == ["c"]

"""Malformed and hostile requests over raw HTTPS: each gets the right status and a Status
body, nothing stored is lost, and the server keeps serving."""
import http.client
import json
import ssl

import pytest

CM = "/api/v1/namespaces/hostile/configmaps"
LLMD = "/apis/llmops.io/v1alpha1/namespaces/hostile/llmdeployments"


def request(cp, method, path, body=None, content_type="application/json", token=True):
    ctx = ssl.create_default_context(cafile=cp.ca)
    conn = http.client.HTTPSConnection("127.0.0.1", cp.port, context=ctx, timeout=30)
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {cp.token if token is True else token}"
    if isinstance(body, str):
        body = body.encode()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


@pytest.fixture(scope="module")
def target(cp, crds):
    cp.kubectl("create", "namespace", "hostile")
    cp.kubectl("create", "configmap", "keep", "-n", "hostile", "--from-literal=k=v")
    return cp


def cm(name, **extra):
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **extra}})


CASES = [
    # (id, method, path, body, content type, token, expected status)
    ("no-token", "GET", "/api/v1/namespaces", None, "application/json", False, 401),
    ("wrong-token", "GET", "/api/v1/namespaces", None, "application/json", "nope", 401),
    ("traversal-dotdot", "GET", CM + "/../../secrets", None, "application/json", True, 404),
    ("traversal-encoded", "GET", CM + "/%2e%2e", None, "application/json", True, 404),
    ("traversal-backslash", "GET", CM + "/a%5c..%5csecrets", None, "application/json", True, 404),
    ("truncated-json", "POST", CM, '{"metadata":', "application/json", True, 400),
    ("json-array-body", "POST", CM, "[1,2]", "application/json", True, 400),
    ("json-null-body", "POST", CM, "null", "application/json", True, 400),
    ("empty-body", "POST", CM, "", "application/json", True, 400),
    ("invalid-utf8", "POST", CM, b'{"metadata":{"name":"\xff\xfe"}}', "application/json", True, 400),
    ("deep-nesting", "POST", CM, "[" * 20000 + "]" * 20000, "application/json", True, 400),
    ("yaml-list", "POST", CM, "- just: yaml\n- list", "application/yaml", True, 400),
    ("huge-body", "POST", CM, " " * (4 * 1024 * 1024), "application/json", True, 413),
    ("wrong-kind", "POST", CM, '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}', "application/json", True, 400),
    ("wrong-apiversion", "POST", CM, '{"apiVersion":"v2","kind":"ConfigMap","metadata":{"name":"x"}}', "application/json", True, 400),
    ("protobuf-unknown-kind", "POST", "/apis/apps/v1/namespaces/hostile/deployments", b"k8s\x00garbage", "application/vnd.kubernetes.protobuf", True, 415),
    ("cbor", "POST", CM, b"\xa0", "application/cbor", True, 415),
    ("uppercase-name", "POST", CM, cm("Bad_Name"), "application/json", True, 422),
    ("name-too-long", "POST", CM, cm("a" * 300), "application/json", True, 422),
    ("bad-label", "POST", CM, cm("x", labels={"bad key!": "v"}), "application/json", True, 422),
    ("missing-namespace", "POST", "/api/v1/namespaces/nowhere/configmaps", cm("x"), "application/json", True, 404),
    ("already-exists", "POST", CM, cm("keep"), "application/json", True, 409),
    ("name-mismatch", "PUT", CM + "/keep", cm("other"), "application/json", True, 400),
    ("stale-resource-version", "PUT", CM + "/keep", cm("keep", resourceVersion="1"), "application/json", True, 409),
    ("bad-resource-version", "PUT", CM + "/keep", cm("keep", resourceVersion="abc"), "application/json", True, 400),
    ("bad-label-selector", "GET", CM + "?labelSelector=a%3D%3D%3D", None, "application/json", True, 400),
    ("bad-field-selector", "GET", CM + "?fieldSelector=nonsense", None, "application/json", True, 400),
    ("unsupported-field-label", "GET", CM + "?fieldSelector=data.k%3Dv", None, "application/json", True, 400),
    ("bad-limit", "GET", CM + "?limit=-3", None, "application/json", True, 400),
    ("forged-continue", "GET", CM + "?limit=1&continue=Zm9v", None, "application/json", True, 400),
    ("bad-watch-version", "GET", CM + "?watch=true&resourceVersion=abc", None, "application/json", True, 400),
    ("bad-watch-timeout", "GET", CM + "?watch=true&timeoutSeconds=soon", None, "application/json", True, 400),
    ("unknown-resource", "GET", "/api/v1/namespaces/hostile/widgets", None, "application/json", True, 404),
    ("unknown-group", "GET", "/apis/evil.io/v1/things", None, "application/json", True, 404),
    ("cluster-scoped-with-namespace", "GET", "/api/v1/namespaces/hostile/nodes", None, "application/json", True, 400),
    ("put-on-collection", "PUT", CM, cm("x"), "application/json", True, 405),
    ("unsupported-patch-type", "PATCH", CM + "/keep", "{}", "text/plain", True, 415),
    ("strategic-on-custom-resource", "PATCH", LLMD + "/x", "{}", "application/strategic-merge-patch+json", True, 415),
    ("json-patch-not-array", "PATCH", CM + "/keep", "{}", "application/json-patch+json", True, 422),
    ("json-patch-failed-test", "PATCH", CM + "/keep", '[{"op":"test","path":"/data/k","value":"other"}]', "application/json-patch+json", True, 422),
    ("apply-without-manager", "PATCH", CM + "/keep", cm("keep"), "application/apply-patch+yaml", True, 400),
    ("force-without-apply", "PATCH", CM + "/keep?force=true", "{}", "application/merge-patch+json", True, 400),
    ("patch-missing-object", "PATCH", CM + "/nope", "{}", "application/merge-patch+json", True, 404),
    ("bad-propagation", "DELETE", CM + "/keep?propagationPolicy=Sideways", None, "application/json", True, 400),
    ("uid-precondition", "DELETE", CM + "/keep", '{"preconditions":{"uid":"not-it"}}', "application/json", True, 409),
    ("delete-missing", "DELETE", LLMD + "/ghost", None, "application/json", True, 404),
    ("negative-scale", "PATCH", "/apis/apps/v1/namespaces/hostile/deployments/none/scale", '{"spec":{"replicas":-1}}', "application/merge-patch+json", True, 404),
    ("schema-violation", "POST", LLMD, '{"apiVersion":"llmops.io/v1alpha1","kind":"LLMDeployment","metadata":{"name":"x"},"spec":{}}', "application/json", True, 422),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_request_gets_status(target, case):
    _, method, path, body, ctype, token, expected = case
    status, data = request(target, method, path, body, ctype, token)
    assert status == expected, data[:300]
    doc = json.loads(data)
    assert doc["kind"] == "Status" and doc["code"] == expected and doc["message"], doc


def test_nothing_stored_was_lost_and_the_server_still_serves(target):
    assert target.kubectl("get", "cm", "keep", "-n", "hostile", "-o", "jsonpath={.data.k}").stdout == "v"
    assert target.kubectl("get", "cm", "-n", "hostile", "-o", "name").stdout.split() == ["configmap/keep"]
    assert len(CASES) >= 30

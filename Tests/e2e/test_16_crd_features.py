"""Third-party CRD shapes served as kube-apiserver serves them (issue 15), through kubectl:
the Kubernetes docs' CronTab (a schema without `metadata`), and a Route CRD written for this
suite (fixtures/routes-crd.yaml) whose rules use raw and triple-quoted regexes, macros,
transition rules, optionalOldSelf, messageExpression, reason, fieldPath, formats,
int-or-string and the Kubernetes CEL libraries; objects apply with --server-side and read
back unchanged, bad ones get kube-apiserver's messages, and a CRD whose rule is too
expensive is refused when it is written."""
import json

import pytest
import yaml

from conftest import ROOT

CRONTAB = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                cronSpec: {type: string}
                image: {type: string}
                replicas: {type: integer}
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
"""

GOOD_ROUTE = {
    "apiVersion": "traffic.example.com/v1", "kind": "Route", "metadata": {"name": "chat", "namespace": "default", "labels": {"team": "ml"}},
    "spec": {
        "class": "public", "owner": "team-a", "hostnames": ["chat.example.com", "*.chat.example.com"], "notBefore": "2026-01-01T00:00:00Z",
        "timeout": "90s", "memory": "16Gi", "allowFrom": ["10.0.0.0/8"], "minVersion": "v1.2", "docs": "https://example.com/chat",
        "extensions": {"vendor": {"retries": 3, "nested": [{"free": "form"}]}},
        "rules": [{"name": "api", "path": {"type": "PathPrefix", "value": "/v1/chat"}, "headers": [{"name": "x-team", "value": "a"}],
                   "backendRefs": [{"name": "stable", "port": 8000, "weight": 90}, {"name": "canary", "port": 8000, "weight": 10}]}],
    },
}


@pytest.fixture(scope="module")
def routes(cp):
    cp.kubectl("apply", "--server-side", "-f", str(ROOT / "Tests" / "e2e" / "fixtures" / "routes-crd.yaml"))
    return cp


def apply(cp, obj, check=True):
    return cp.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(obj), check=check)


def test_crontab_from_the_kubernetes_docs_keeps_its_names(cp):
    cp.kubectl("apply", "--server-side", "-f", "-", stdin=CRONTAB)
    cp.kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump({
        "apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "my-new-cron-object"},
        "spec": {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image"}}))
    o = cp.get_json("crontab", "my-new-cron-object")
    assert o["metadata"]["name"] == "my-new-cron-object" and o["spec"]["image"] == "my-awesome-cron-image"
    assert "my-new-cron-object" in cp.kubectl("get", "ct").stdout


def test_a_route_using_every_feature_applies_and_reads_back_unchanged(routes):
    apply(routes, GOOD_ROUTE)
    got = routes.get_json("route", "chat")
    assert got["spec"] == GOOD_ROUTE["spec"]
    assert got["metadata"]["labels"] == {"team": "ml"}
    again = apply(routes, GOOD_ROUTE)
    assert "unchanged" in again.stdout or "serverside-applied" in again.stdout
    assert routes.get_json("route", "chat")["metadata"]["resourceVersion"] == got["metadata"]["resourceVersion"]


@pytest.mark.parametrize("change,message", [
    ({"hostnames": ["Not_A_Host"]}, 'spec.hostnames: Invalid value: "object": hostnames must be DNS names, optionally with a leading wildcard label'),
    ({"rules": [{"path": {"type": "Exact", "value": "v1"}}]}, "spec.rules[0].path: Invalid value: \"object\": path must begin with '/'"),
    ({"rules": [{"path": {"type": "Exact", "value": "/a b"}}]}, "spec.rules[0].path: Invalid value: \"object\": must only contain valid characters"),
    ({"rules": [{"backendRefs": [{"name": "a", "weight": 900}, {"name": "b", "weight": 200}]}]}, "spec: Invalid value: \"object\": backend weights add up to more than 1000 in a rule"),
    ({"timeout": "10m"}, 'spec.timeout: Invalid value: "string": timeout may be at most 5m'),
    ({"memory": "128Gi"}, 'spec.memory: Invalid value: "object": memory 128Gi is above 64Gi'),
    ({"allowFrom": ["0.0.0.0/0"]}, 'spec.allowFrom[0]: Invalid value: "string": must be a CIDR no wider than /8'),
    ({"minVersion": "latest"}, 'spec.minVersion: Invalid value: "string": must be a semantic version'),
    ({"docs": "http://example.com"}, 'spec.docs: Invalid value: "string": must be an https URL'),
    ({"rules": [{"headers": [{"name": "a", "value": "1"}, {"name": "a", "value": "2"}]}]}, "spec.rules[0].headers[1]: Duplicate value: "),
    # The schema keywords in the OpenAPI validator's words, the path repeated in the detail.
    ({"rules": [{"backendRefs": [{"name": "a", "port": 0}]}]},
     "spec.rules[0].backendRefs[0].port: Invalid value: 0: spec.rules[0].backendRefs[0].port in body should be greater than or equal to 1"),
    ({"class": "x" * 64}, "spec.class: Too long: may not be more than 63 bytes"),
    ({"rules": [{"path": {"type": "Glob", "value": "/"}}]}, 'spec.rules[0].path.type: Unsupported value: "Glob": supported values: "Exact", "PathPrefix", "RegularExpression"'),
    ({"owner": 7}, 'spec.owner: Invalid value: "integer": spec.owner in body must be of type string: "integer"'),
])
def test_bad_routes_get_kube_apiservers_messages(routes, change, message):
    bad = json.loads(json.dumps(GOOD_ROUTE))
    bad["metadata"]["name"] = "bad"
    bad["spec"].update(change)
    p = apply(routes, bad, check=False)
    assert p.returncode == 1
    # kubectl prints the causes kube-apiserver sends: "The KIND "NAME" is invalid: field: message".
    # (one cause on the same line, several as a "* " list; shape errors add RULES_SKIPPED)
    head = 'The Route "bad" is invalid: '
    assert head + message in p.stderr or (head + "\n" in p.stderr and "* " + message in p.stderr), p.stderr
    assert routes.kubectl("get", "route", "bad", check=False).returncode == 1


RULES_SKIPPED = ('<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; '
                 'correct the existing errors to complete validation')


def test_rules_run_beside_bound_errors_but_not_beside_shape_errors(routes):
    """kube-apiserver evaluates CEL rules unless a type, enum, size or required error makes the
    object the wrong shape for them; then it says the rules were not checked."""
    bad = json.loads(json.dumps(GOOD_ROUTE))
    bad["metadata"]["name"] = "bad"
    bad["spec"]["rules"] = [{"path": {"type": "Exact", "value": "v1"}, "backendRefs": [{"name": "a", "port": 0}]}]
    p = apply(routes, bad, check=False)
    assert "port in body should be greater than or equal to 1" in p.stderr and "path must begin with '/'" in p.stderr, p.stderr
    assert RULES_SKIPPED not in p.stderr
    bad["spec"]["owner"] = 7
    p = apply(routes, bad, check=False)
    assert "spec.owner in body must be of type string" in p.stderr and RULES_SKIPPED in p.stderr, p.stderr
    assert "path must begin with '/'" not in p.stderr


def test_an_atomic_map_is_owned_and_replaced_whole(routes):
    base = {"apiVersion": "traffic.example.com/v1", "kind": "Route", "metadata": {"name": "sel"}, "spec": {"rules": [], "selector": {"a": "1"}}}
    routes.kubectl("apply", "--server-side", "--field-manager", "team-a", "-f", "-", stdin=json.dumps(base))
    other = json.loads(json.dumps(base))
    other["spec"] = {"selector": {"b": "2"}}
    p = routes.kubectl("apply", "--server-side", "--field-manager", "team-b", "-f", "-", stdin=json.dumps(other), check=False)
    assert p.returncode == 1 and 'conflict with "team-a"' in p.stderr and ".spec.selector" in p.stderr, p.stderr
    routes.kubectl("apply", "--server-side", "--field-manager", "team-b", "--force-conflicts", "-f", "-", stdin=json.dumps(other))
    assert routes.get_json("route", "sel")["spec"]["selector"] == {"b": "2"}


def test_transition_rules_guard_updates_only(routes):
    r = json.loads(json.dumps(GOOD_ROUTE))
    r["metadata"]["name"] = "moving"
    apply(routes, r)
    r["spec"]["class"] = "internal"
    p = apply(routes, r, check=False)
    assert p.returncode == 1 and 'spec.class: Forbidden: class is immutable' in p.stderr, p.stderr
    r["spec"]["class"] = "public"
    r["spec"]["owner"] = "team-b"
    p = apply(routes, r, check=False)
    assert p.returncode == 1 and "owner cannot change once set" in p.stderr, p.stderr
    r["spec"]["owner"] = "team-a"
    r["spec"]["timeout"] = "2m"
    apply(routes, r)
    assert routes.get_json("route", "moving")["spec"]["timeout"] == "2m"


def test_a_crd_whose_rule_is_too_expensive_is_refused(cp):
    crd = yaml.safe_load((ROOT / "Tests" / "e2e" / "fixtures" / "routes-crd.yaml").read_text())
    crd["metadata"]["name"] = "costly.traffic.example.com"
    crd["spec"]["names"] = {"kind": "Costly", "plural": "costly", "singular": "costly", "listKind": "CostlyList"}
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["tags"] = {"type": "array", "items": {"type": "string"},
                                  "x-kubernetes-validations": [{"rule": "self.all(a, self.all(b, a == b || a != b))"}]}
    p = cp.kubectl("apply", "-f", "-", stdin=json.dumps(crd), check=False)
    assert p.returncode == 1
    assert 'The CustomResourceDefinition "costly.traffic.example.com" is invalid' in p.stderr, p.stderr
    assert "x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget" in p.stderr, p.stderr
    crd["metadata"]["name"] = "broken.traffic.example.com"
    crd["spec"]["names"] = {"kind": "Broken", "plural": "broken", "singular": "broken", "listKind": "BrokenList"}
    spec["properties"]["tags"]["maxItems"] = 10
    spec["properties"]["tags"]["x-kubernetes-validations"] = [{"rule": "self.size( > 1"}]
    p = cp.kubectl("apply", "-f", "-", stdin=json.dumps(crd), check=False)
    assert p.returncode == 1 and "compilation failed: Syntax error" in p.stderr, p.stderr


WIDGETS = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.shop.example.com"},
    "spec": {
        "group": "shop.example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
        "conversion": {"strategy": "None"},
        "versions": [
            {"name": "v1beta1", "served": True, "storage": False, "deprecated": True,
             "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}},
            {"name": "v1", "served": True, "storage": True,
             "selectableFields": [{"jsonPath": ".spec.color"}, {"jsonPath": ".spec.size"}],
             "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {
                 "color": {"type": "string"}, "size": {"type": "integer"}, "note": {"type": "string", "nullable": True},
                 "template": {"type": "object", "x-kubernetes-embedded-resource": True, "x-kubernetes-preserve-unknown-fields": True},
             }}}}}},
        ],
    },
}


def test_versions_selectable_fields_embedded_resources_and_nullable(cp):
    cp.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(WIDGETS))
    for name, color, size in (("a", "red", 1), ("b", "blue", 2), ("c", "red", 3)):
        cp.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps({
            "apiVersion": "shop.example.com/v1", "kind": "Widget", "metadata": {"name": name},
            "spec": {"color": color, "size": size, "note": None,
                     "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t", "labels": {"a": "b"}}, "data": {"k": "v"}}}}))
    # selectableFields: field selectors on declared fields; others are still refused.
    names = cp.kubectl("get", "widgets.v1.shop.example.com", "--field-selector", "spec.color=red", "-o", "name").stdout.split()
    assert names == ["widget.shop.example.com/a", "widget.shop.example.com/c"]
    assert cp.kubectl("get", "widgets", "--field-selector", "spec.size!=1", "-o", "name").stdout.split() == ["widget.shop.example.com/b", "widget.shop.example.com/c"]
    refused = cp.kubectl("get", "widgets", "--field-selector", "spec.note=x", check=False)
    assert refused.returncode == 1 and "field label not supported: spec.note" in refused.stderr
    # nullable keeps an explicit null (on create: an apply's null means "unset"); the embedded
    # resource keeps its own kind and metadata.
    cp.kubectl("create", "-f", "-", stdin=json.dumps({"apiVersion": "shop.example.com/v1", "kind": "Widget", "metadata": {"name": "n"},
                                                     "spec": {"color": "green", "note": None}}))
    assert cp.get_json("widgets.v1.shop.example.com", "n")["spec"]["note"] is None
    a = cp.get_json("widgets.v1.shop.example.com", "a")
    assert "note" not in a["spec"] and a["spec"]["template"]["metadata"]["labels"] == {"a": "b"}
    # Served under both versions with conversion None: only apiVersion differs.
    old = cp.get_json("widgets.v1beta1.shop.example.com", "a")
    assert old["apiVersion"] == "shop.example.com/v1beta1" and old["spec"] == a["spec"]
    bad = cp.kubectl("apply", "--server-side", "-f", "-", check=False, stdin=json.dumps({
        "apiVersion": "shop.example.com/v1", "kind": "Widget", "metadata": {"name": "d"}, "spec": {"template": {"metadata": {"name": "Bad_Name"}}}}))
    assert bad.returncode == 1
    assert "spec.template.apiVersion: Required value: must not be empty" in bad.stderr and "spec.template.kind: Required value" in bad.stderr, bad.stderr
    assert "spec.template.metadata.name: Invalid value" in bad.stderr, bad.stderr
    # A selectable field the schema does not declare is refused when the CRD is written.
    broken = json.loads(json.dumps(WIDGETS))
    broken["metadata"]["name"] = "gadgets.shop.example.com"
    broken["spec"]["names"] = {"kind": "Gadget", "plural": "gadgets", "singular": "gadget"}
    broken["spec"]["versions"][1]["selectableFields"] = [{"jsonPath": ".spec.missing"}]
    p = cp.kubectl("apply", "-f", "-", stdin=json.dumps(broken), check=False)
    assert p.returncode == 1 and "spec.versions[1].selectableFields[0].jsonPath" in p.stderr, p.stderr


def test_a_kind_without_its_crd_is_reported_as_kubectl_reports_it_on_a_cluster(routes):
    """kubectl looks a kind missing from OpenAPI v3 up in /openapi/v2, which client-go reads
    only as protobuf; then it says which CRD is missing (a GitOps repository applied in the
    wrong order, or a typo in kind)."""
    for api_version, kind in [("traffic.example.com/v1", "Rout"), ("nothing.example.com/v1", "Widget")]:
        obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "default"}}
        p = apply(routes, obj, check=False)
        assert p.returncode == 1
        assert f'no matches for kind "{kind}" in version "{api_version}"' in p.stderr, p.stderr
        assert "ensure CRDs are installed first" in p.stderr


def test_explain_reads_the_protobuf_openapi_v2_document(routes):
    out = routes.kubectl("explain", "route.spec.rules.backendRefs", "--output=plaintext-openapiv2").stdout
    assert "VERSION:  traffic.example.com/v1" in out
    assert "weight\t<integer>" in out and "name\t<string>" in out

"""kubectl 1.32 against `llmops up`: every command the issue lists, as a user types it."""
import json
import os
import stat
import subprocess
import textwrap
import threading
import time

from conftest import ROOT

SAMPLES = str(ROOT / "manifests" / "samples")
CRDS = str(ROOT / "crds")


def test_version_discovery_and_auth(cp):
    assert "Server Version: v1.32.0-llmops" in cp.kubectl("version").stdout
    versions = cp.kubectl("api-versions").stdout.split()
    assert {"v1", "apps/v1", "coordination.k8s.io/v1", "apiextensions.k8s.io/v1", "events.k8s.io/v1"} <= set(versions)
    assert cp.kubectl("auth", "can-i", "create", "pods").stdout.strip() == "yes"
    denied = cp.kubectl("get", "ns", "--token", "wrong", check=False)
    assert denied.returncode != 0 and "Unauthorized" in denied.stderr


def test_apply_crds_and_samples_with_validation_and_reapply(cp):
    cp.kubectl("apply", "-f", CRDS)
    cp.kubectl("create", "namespace", "inference")
    first = cp.kubectl("apply", "-f", SAMPLES).stdout
    assert "llmdeployment.llmops.io/llama-3-1-8b-chat created" in first
    again = cp.kubectl("apply", "-f", SAMPLES).stdout
    assert again.count("unchanged") == 3, again
    assert "llmd" in cp.kubectl("api-resources", "--api-group=llmops.io").stdout
    # Server-side field validation: kubectl asks the server (fieldValidation=Strict).
    bad = cp.kubectl("apply", "-f", "-", check=False, stdin=textwrap.dedent("""\
        apiVersion: llmops.io/v1alpha1
        kind: ScalingPolicy
        metadata: {name: typo, namespace: inference}
        spec: {targetRef: {name: x}, maxReplicas: 3, maxReplicaz: 4}
        """))
    assert bad.returncode != 0 and 'unknown field "spec.maxReplicaz"' in bad.stderr, bad.stderr
    invalid = cp.kubectl("apply", "-f", "-", check=False, stdin=textwrap.dedent("""\
        apiVersion: llmops.io/v1alpha1
        kind: ScalingPolicy
        metadata: {name: bad, namespace: inference}
        spec: {targetRef: {name: x}, minReplicas: 9, maxReplicas: 2}
        """))
    assert invalid.returncode != 0 and "minReplicas must be less than or equal to maxReplicas" in invalid.stderr


def test_client_side_apply_changes_and_prunes_fields(cp):
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prices, namespace: inference}\ndata: {H100: '6.5', L4: '0.8'}\n"
    cp.kubectl("apply", "-f", "-", stdin=cm)
    out = cp.kubectl("apply", "-f", "-", stdin=cm.replace("L4: '0.8'", "L40S: '1.9'")).stdout
    assert "configured" in out
    assert cp.get_json("cm", "prices", "-n", "inference")["data"] == {"H100": "6.5", "L40S": "1.9"}


def test_strategic_merge_keeps_other_containers(cp):
    deploy = textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: inference, labels: {app: web}}
        spec:
          replicas: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - {name: app, image: "nginx:1", env: [{name: A, value: "1"}]}
              - {name: sidecar, image: busybox}
        """)
    cp.kubectl("apply", "-f", "-", stdin=deploy)
    cp.kubectl("patch", "deploy", "web", "-n", "inference", "-p",
               '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}')
    containers = cp.get_json("deploy", "web", "-n", "inference")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("app", "nginx:2"), ("sidecar", "busybox")]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}]
    cp.kubectl("patch", "deploy", "web", "-n", "inference", "--type=json",
               "-p", '[{"op":"replace","path":"/spec/replicas","value":2}]')
    cp.kubectl("scale", "deploy", "web", "-n", "inference", "--replicas=3")
    assert cp.get_json("deploy", "web", "-n", "inference")["spec"]["replicas"] == 3


def test_server_side_apply_conflicts_and_force(cp):
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: inference}\ndata: {a: '1'}\n"
    assert "serverside-applied" in cp.kubectl("apply", "--server-side", "-f", "-", stdin=manifest).stdout
    assert "serverside-applied" in cp.kubectl("apply", "--server-side", "-f", "-", stdin=manifest).stdout
    cp.kubectl("patch", "cm", "ssa", "-n", "inference", "--type=merge", "-p", '{"data":{"a":"2"}}')
    clash = cp.kubectl("apply", "--server-side", "-f", "-", stdin=manifest.replace("'1'", "'3'"), check=False)
    assert clash.returncode != 0 and 'conflict with "kubectl-patch"' in clash.stderr and ".data.a" in clash.stderr, clash.stderr
    cp.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=manifest.replace("'1'", "'3'"))
    live = cp.get_json("cm", "ssa", "-n", "inference", "--show-managed-fields")
    assert live["data"] == {"a": "3"}
    managers = {m["manager"]: m["operation"] for m in live["metadata"]["managedFields"]}
    assert managers.get("kubectl") == "Apply", managers
    # Fields the applier stops applying are removed.
    cp.kubectl("apply", "--server-side", "-f", "-", stdin=manifest.replace("{a: '1'}", "{b: '1'}"))
    assert cp.get_json("cm", "ssa", "-n", "inference")["data"] == {"b": "1"}


def test_create_replace_get_outputs_and_selectors(cp):
    cp.kubectl("create", "namespace", "getters")
    for i, tier in enumerate(["gold", "silver", "gold"]):
        cp.kubectl("create", "configmap", f"c{i}", "-n", "getters", f"--from-literal=i={i}")
        cp.kubectl("label", "configmap", f"c{i}", "-n", "getters", f"tier={tier}")
    assert cp.kubectl("get", "cm", "-n", "getters", "-l", "tier=gold", "-o", "name").stdout.split() == ["configmap/c0", "configmap/c2"]
    assert cp.kubectl("get", "cm", "-n", "getters", "--field-selector", "metadata.name=c1", "-o", "name").stdout.strip() == "configmap/c1"
    assert "tier=silver" in cp.kubectl("get", "cm", "c1", "-n", "getters", "--show-labels").stdout
    assert "getters" in cp.kubectl("get", "cm", "-A").stdout
    assert cp.kubectl("get", "cm", "c1", "-n", "getters", "-o", "jsonpath={.data.i}").stdout == "1"
    assert "kind: ConfigMap" in cp.kubectl("get", "cm", "c1", "-n", "getters", "-o", "yaml").stdout
    assert len(cp.kubectl("get", "cm", "-n", "getters", "--chunk-size=1", "-o", "name").stdout.split()) == 3
    obj = cp.get_json("cm", "c1", "-n", "getters")
    obj["data"]["i"] = "replaced"
    cp.kubectl("replace", "-f", "-", stdin=json.dumps(obj))
    assert cp.kubectl("get", "cm", "c1", "-n", "getters", "-o", "jsonpath={.data.i}").stdout == "replaced"
    # A stale resourceVersion conflicts.
    stale = cp.kubectl("replace", "-f", "-", stdin=json.dumps(obj), check=False)
    assert stale.returncode != 0 and "the object has been modified" in stale.stderr
    cp.kubectl("annotate", "cm", "c1", "-n", "getters", "owner=team-a")
    assert cp.get_json("cm", "c1", "-n", "getters")["metadata"]["annotations"]["owner"] == "team-a"
    wide = cp.kubectl("get", "llmd", "-n", "inference", "-o", "wide").stdout
    assert "MODEL" in wide.splitlines()[0] and "meta-llama/Llama-3.1-8B-Instruct" in wide


def test_explain_from_the_crd_schema(cp):
    out = cp.kubectl("explain", "llmd.spec.slo").stdout
    assert "KIND:       LLMDeployment" in out and "FIELDS:" in out, out
    assert "ttft" in out.lower()


def test_edit_with_kube_editor(cp, tmp_path):
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/maxReplicas: 12/maxReplicas: 16/' \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    before = cp.get_json("sp", "llama-3-1-8b-chat", "-n", "inference")["spec"]["maxReplicas"]
    assert before == 12, before
    cp.kubectl("edit", "sp", "llama-3-1-8b-chat", "-n", "inference", env=cp.env(KUBE_EDITOR=str(editor)))
    assert cp.get_json("sp", "llama-3-1-8b-chat", "-n", "inference")["spec"]["maxReplicas"] == 16


def test_status_subresource_scale_and_wait(cp):
    cp.kubectl("scale", "llmd", "llama-3-1-8b-chat", "-n", "inference", "--replicas=4")
    llmd = cp.get_json("llmd", "llama-3-1-8b-chat", "-n", "inference")
    assert llmd["spec"]["replicas"] == 4
    # wait blocks until a condition appears through the status subresource.
    waiter = subprocess.Popen(
        ["kubectl", "wait", "llmd/llama-3-1-8b-chat", "-n", "inference", "--for=condition=Ready", "--timeout=30s"],
        env=cp.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    cp.kubectl("patch", "llmd", "llama-3-1-8b-chat", "-n", "inference", "--subresource=status", "--type=merge", "-p", json.dumps({
        "status": {"readyReplicas": 4, "conditions": [{"type": "Ready", "status": "True", "reason": "ReplicasReady",
                                                        "message": "4/4 ready", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}))
    out, err = waiter.communicate(timeout=40)
    assert waiter.returncode == 0 and "condition met" in out, err
    cp.kubectl("wait", "llmd/llama-3-1-8b-chat", "-n", "inference", "--for=jsonpath={.status.readyReplicas}=4", "--timeout=10s")
    # Status writes do not bump generation; spec writes do.
    after = cp.get_json("llmd", "llama-3-1-8b-chat", "-n", "inference")
    assert after["metadata"]["generation"] == llmd["metadata"]["generation"]


def test_describe_shows_events(cp):
    llmd = cp.get_json("llmd", "llama-3-1-8b-chat", "-n", "inference")
    event = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "llama-3-1-8b-chat.scaled", "namespace": "inference"},
        "involvedObject": {"apiVersion": "llmops.io/v1alpha1", "kind": "LLMDeployment", "name": "llama-3-1-8b-chat",
                           "namespace": "inference", "uid": llmd["metadata"]["uid"]},
        "reason": "ScaledUp", "message": "replicas 2 -> 4: TTFT p95 above target", "type": "Normal",
        "source": {"component": "llmops-operator"}, "count": 1,
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
    }
    cp.kubectl("create", "-f", "-", stdin=json.dumps(event))
    described = cp.kubectl("describe", "llmd", "llama-3-1-8b-chat", "-n", "inference").stdout
    assert "ScaledUp" in described and "TTFT p95 above target" in described, described
    assert "ScaledUp" in cp.kubectl("events", "-n", "inference").stdout


def test_watch_sees_changes_in_order(cp):
    watcher = subprocess.Popen(
        ["kubectl", "get", "cm", "-n", "inference", "-w", "--output-watch-events", "--request-timeout=8s"],
        env=cp.env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(1.5)
    cp.kubectl("create", "cm", "watched", "-n", "inference")
    cp.kubectl("label", "cm", "watched", "-n", "inference", "x=y")
    cp.kubectl("delete", "cm", "watched", "-n", "inference")
    time.sleep(1)
    watcher.terminate()
    out, _ = watcher.communicate(timeout=10)
    events = [line.split()[0] for line in out.splitlines() if line.split()[1:2] == ["watched"]]
    assert events == ["ADDED", "MODIFIED", "DELETED"], out


def test_delete_finalizers_cascade_and_namespaces(cp):
    cp.kubectl("create", "namespace", "gc")
    cp.kubectl("create", "cm", "held", "-n", "gc")
    cp.kubectl("patch", "cm", "held", "-n", "gc", "--type=merge", "-p", '{"metadata":{"finalizers":["llmops.io/cleanup"]}}')
    cp.kubectl("delete", "cm", "held", "-n", "gc", "--wait=false")
    assert cp.get_json("cm", "held", "-n", "gc")["metadata"].get("deletionTimestamp")
    cp.kubectl("patch", "cm", "held", "-n", "gc", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    assert cp.kubectl("get", "cm", "held", "-n", "gc", check=False).returncode != 0

    def owned(name, owner):
        return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": name, "namespace": "gc",
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"],
                                 "uid": owner["metadata"]["uid"], "blockOwnerDeletion": True}]}})

    for policy in ["background", "foreground", "orphan"]:
        cp.kubectl("create", "cm", f"owner-{policy}", "-n", "gc")
        owner = cp.get_json("cm", f"owner-{policy}", "-n", "gc")
        cp.kubectl("create", "-f", "-", stdin=owned(f"child-{policy}", owner))
        cp.kubectl("delete", "cm", f"owner-{policy}", "-n", "gc", f"--cascade={policy}", "--timeout=20s")
        deadline = time.time() + 10
        expect_child = policy == "orphan"
        while time.time() < deadline:
            exists = cp.kubectl("get", "cm", f"child-{policy}", "-n", "gc", check=False).returncode == 0
            if exists == expect_child:
                break
            time.sleep(0.2)
        assert exists == expect_child, policy
    orphan = cp.get_json("cm", "child-orphan", "-n", "gc")
    assert not orphan["metadata"].get("ownerReferences")
    cp.kubectl("delete", "namespace", "gc", "--timeout=20s")
    assert cp.kubectl("get", "namespace", "gc", check=False).returncode != 0
    assert cp.kubectl("get", "cm", "-n", "gc", "-o", "name").stdout.strip() == ""


def test_typed_create_commands_send_protobuf(cp):
    """kubectl's generators (create deployment, run, create service, expose) send protobuf."""
    cp.kubectl("create", "namespace", "typed")
    out = cp.kubectl("create", "deployment", "web", "-n", "typed", "--image=nginx:1.27", "--replicas=3", "--port=80", "-v=8", "--", "sh", "-c", "echo hi")
    assert "application/vnd.kubernetes.protobuf" in out.stderr and "deployment.apps/web created" in out.stdout
    d = cp.get_json("deployment", "web", "-n", "typed")
    assert d["spec"]["replicas"] == 3 and d["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    [c] = d["spec"]["template"]["spec"]["containers"]
    assert c["image"] == "nginx:1.27" and c["command"] == ["sh", "-c", "echo hi"] and c["ports"] == [{"containerPort": 80}]
    assert "creationTimestamp" not in d["spec"]["template"]["metadata"]
    # kubectl scale works on the result, through the scale subresource.
    cp.kubectl("scale", "deployment", "web", "-n", "typed", "--replicas=1")
    assert cp.get_json("deployment", "web", "-n", "typed")["spec"]["replicas"] == 1

    cp.kubectl("run", "box", "-n", "typed", "--image=busybox", "--env=A=1", "--restart=Never", "--port=8080", "--", "sleep", "3600")
    pod = cp.get_json("pod", "box", "-n", "typed")
    assert pod["metadata"]["labels"] == {"run": "box"} and pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}] and pod["spec"]["containers"][0]["args"] == ["sleep", "3600"]

    cp.kubectl("create", "service", "clusterip", "api", "-n", "typed", "--tcp=80:8080")
    svc = cp.get_json("service", "api", "-n", "typed")
    assert svc["spec"]["ports"] == [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}] and svc["spec"]["type"] == "ClusterIP"
    cp.kubectl("expose", "deployment", "web", "-n", "typed", "--name=web-named", "--port=81", "--target-port=http")
    assert cp.get_json("service", "web-named", "-n", "typed")["spec"]["ports"][0]["targetPort"] == "http"

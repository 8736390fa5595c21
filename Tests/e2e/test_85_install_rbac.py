"""Installing the operator as a platform team would, on `llmops up --gpus ...` with RBAC
enforced: `kubectl apply -k manifests/default` and `helm install` start the operator's Pods
for real (the simulated kubelet runs the llmops image as processes of this binary, with the
Pod's args, env and ServiceAccount token), one of them leads, the samples reconcile under
the ServiceAccount's ClusterRole and nothing more, and uninstalling removes everything.
Also: tokens, impersonation, `kubectl auth can-i` / `whoami`, and 403s worded as
kube-apiserver words them.
"""
import json
import os
import subprocess

import pytest

from conftest import ROOT, gpu_plane
from test_50_helm import HELM
from test_60_gpu_cluster import ready, wait_for

SA = "system:serviceaccount:llmops-system:llmops-operator"
AS_OPERATOR = f"--as={SA}"


@pytest.fixture(scope="module")
def gpu():
    yield from gpu_plane("llmops-rbac-", "h100:1x8,l40s:1x4", "--time-scale", "20", "--no-operator", audit=True)


def operator_pods(cp, ns="llmops-system"):
    pods = cp.get_json("pods", "-n", ns, "-l", "app.kubernetes.io/component=operator")["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def pid_of(cp, pod):
    m = pod["metadata"]
    return int((cp.data_dir / "pods" / f"{m['namespace']}_{m['name']}_{m['uid']}" / "pid").read_text())


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def leader(cp, ns="llmops-system"):
    lease = cp.get_json("lease", "llmops-operator", "-n", ns)
    return lease["spec"].get("holderIdentity", "").split("_")[0]


def wait_for_running_operator(cp, ns="llmops-system", replicas=2):
    pods = wait_for("operator Pods Ready", lambda: (lambda ps: ps if len(ps) == replicas and all(map(ready, ps)) else None)(operator_pods(cp, ns)),
                    timeout=90)
    for p in pods:
        assert alive(pid_of(cp, p)), f"{p['metadata']['name']} is Ready but its process is not running"
    holder = wait_for("a leader", lambda: leader(cp, ns), timeout=60)
    assert holder in {p["metadata"]["name"] for p in pods}
    return pods


def apply_sample(cp, ns):
    """All three samples in `ns`; each must get its status from the operator."""
    cp.kubectl("create", "namespace", ns)
    for name in ("llmdeployment-llama-8b.yaml", "scalingpolicy-hybrid.yaml", "canaryrun-model-revision.yaml"):
        sample = (ROOT / "manifests" / "samples" / name).read_text().replace("namespace: inference", f"namespace: {ns}")
        cp.kubectl("apply", "-f", "-", stdin=sample)
    sp = wait_for("the ScalingPolicy reconciled by the operator Pods",
                  lambda: cp.get_json("sp", "llama-3-1-8b-chat", "-n", ns).get("status", {}).get("observedGeneration") == 1, timeout=90)
    canary = wait_for("the CanaryRun reconciled by the operator Pods",
                      lambda: cp.get_json("canaryrun", "-n", ns)["items"][0].get("status", {}).get("phase"), timeout=90)
    assert sp and canary
    return wait_for("the LLMDeployment reconciled by the operator Pods",
                    lambda: (lambda o: o if o.get("status", {}).get("observedGeneration") == 1 and o["status"].get("gpuType") else None)(
                        cp.get_json("llmd", "llama-3-1-8b-chat", "-n", ns)), timeout=90)


def audit_lines(cp):
    return len((cp.data_dir / "audit.log").read_text().splitlines())


def operator_requests(cp, since=0):
    out = []
    for line in (cp.data_dir / "audit.log").read_text().splitlines()[since:]:
        e = json.loads(line)
        # The operator's own requests (kubectl --token runs in the tests are not).
        if e["user"]["username"] == SA and e.get("userAgent", "").startswith("llmops-operator"):
            out.append(e)
    return out


def test_kustomize_install_runs_the_operator_under_its_service_account(gpu):
    gpu.kubectl("apply", "--server-side", "-k", str(ROOT / "manifests" / "default"))
    pods = wait_for_running_operator(gpu)
    # The Pod's own args reached the process ($(POD_NAMESPACE) expanded), its listen
    # addresses narrowed to the Pod IP, and in-cluster configuration found the token.
    log = (gpu.data_dir / "pods" / f"llmops-system_{pods[0]['metadata']['name']}_{pods[0]['metadata']['uid']}" / "operator.log").read_text()
    assert f"on {pods[0]['status']['podIP']}:8081" in log, log[:2000]
    # kubectl logs reads the same output.
    logs = gpu.kubectl("logs", "-n", "llmops-system", pods[0]["metadata"]["name"]).stdout
    assert f"on {pods[0]['status']['podIP']}:8081" in logs
    assert "serving" in gpu.kubectl("logs", "-n", "llmops-system", "deploy/llmops-operator", "--tail=50").stdout
    assert len(gpu.kubectl("logs", "-n", "llmops-system", pods[0]["metadata"]["name"], "--tail=1").stdout.splitlines()) == 1
    bad = gpu.kubectl("logs", "-n", "llmops-system", pods[0]["metadata"]["name"], "-c", "nope", check=False)
    assert bad.returncode == 1 and "container nope is not valid" in bad.stderr
    llmd = apply_sample(gpu, "team-a")
    assert gpu.get_json("deploy", "-n", "team-a")["items"], "the operator created no Deployment"
    assert llmd["status"]["gpuType"] in ("H100", "L40S")
    requests = operator_requests(gpu)
    assert requests, "no request was made with the ServiceAccount's token"
    denied = [(e["verb"], e["requestURI"]) for e in requests if e["responseStatus"]["code"] == 403]
    assert not denied, f"the ClusterRole is not enough for: {denied}"
    writes = {(e["objectRef"]["resource"], e["objectRef"].get("subresource", ""), e["verb"]) for e in requests if e.get("objectRef")}
    assert ("llmdeployments", "status", "update") in writes and ("deployments", "", "patch") in writes


def test_can_i_answers_from_the_operator_cluster_role(gpu):
    def can(*args):
        return gpu.kubectl("auth", "can-i", *args, AS_OPERATOR, check=False).stdout.strip()
    assert can("patch", "deployments.apps", "-n", "team-a") == "yes"
    assert can("patch", "llmdeployments.llmops.io/scale", "-n", "team-a") == "yes"
    assert can("update", "leases.coordination.k8s.io", "-n", "llmops-system") == "yes"
    assert can("update", "leases.coordination.k8s.io", "-n", "team-a") == "no"
    assert can("get", "secrets", "-n", "team-a") == "no"
    assert can("create", "pods", "-n", "team-a") == "no"
    assert can("delete", "namespaces") == "no"
    listed = gpu.kubectl("auth", "can-i", "--list", "-n", "llmops-system", AS_OPERATOR).stdout
    assert "leases.coordination.k8s.io" in listed and "llmdeployments.llmops.io" in listed and "secrets" not in listed


def test_namespace_users_reach_the_llmops_kinds_through_view_and_edit(gpu):
    """The install's aggregated roles join Kubernetes' `view` and `edit`: a RoleBinding to
    them is how a team gets its LLMDeployments, as with any other kind."""
    def can(user, *args):
        return gpu.kubectl("auth", "can-i", *args, "-n", "team-a", f"--as={user}", check=False).stdout.strip()
    assert can("alice", "list", "llmdeployments.llmops.io") == "no"
    gpu.kubectl("create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "team-a")
    assert can("alice", "list", "llmdeployments.llmops.io") == "yes" and can("alice", "get", "canaryruns.llmops.io") == "yes"
    assert can("alice", "list", "pods") == "yes" and can("alice", "get", "secrets") == "no"
    assert can("alice", "patch", "llmdeployments.llmops.io") == "no"
    gpu.kubectl("create", "rolebinding", "bob-edit", "--clusterrole=edit", "--user=bob", "-n", "team-a")
    assert can("bob", "patch", "canaryruns.llmops.io") == "yes" and can("bob", "list", "scalingpolicies.llmops.io") == "yes"
    assert can("bob", "create", "rolebindings.rbac.authorization.k8s.io") == "no"
    assert gpu.kubectl("get", "llmd", "-n", "team-a", "--as=alice").returncode == 0


def test_forbidden_requests_read_as_kube_apiserver_writes_them(gpu):
    p = gpu.kubectl("get", "secrets", "-n", "team-a", AS_OPERATOR, check=False)
    assert p.returncode == 1
    assert ('Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:llmops-system:llmops-operator" '
            'cannot list resource "secrets" in API group "" in the namespace "team-a"') in p.stderr
    p = gpu.kubectl("delete", "deploy", "nothing", "-n", "team-a", "--as=alice", check=False)
    assert ('deployments.apps "nothing" is forbidden: User "alice" cannot delete resource "deployments" in API group "apps" '
            'in the namespace "team-a"') in p.stderr
    p = gpu.kubectl("get", "nodes", "--as=alice", check=False)
    assert 'User "alice" cannot list resource "nodes" in API group "" at the cluster scope' in p.stderr
    # Impersonation is itself authorised: the operator may not act as someone else.
    token = gpu.kubectl("create", "token", "llmops-operator", "-n", "llmops-system").stdout.strip()
    p = gpu.kubectl("get", "pods", "--token", token, "--as=alice", check=False)
    assert f'users "alice" is forbidden: User "{SA}" cannot impersonate resource "users" in API group "" at the cluster scope' in p.stderr


def test_tokens_authenticate_until_their_service_account_goes(gpu):
    gpu.kubectl("create", "serviceaccount", "reader", "-n", "team-a")
    gpu.kubectl("create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", "team-a")
    gpu.kubectl("create", "rolebinding", "reader", "--role=pod-reader", "--serviceaccount=team-a:reader", "-n", "team-a")
    token = gpu.kubectl("create", "token", "reader", "-n", "team-a", "--duration=15m").stdout.strip()
    who = gpu.kubectl("auth", "whoami", "--token", token, "-o", "json").stdout
    info = json.loads(who)["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:team-a:reader"
    assert set(info["groups"]) >= {"system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"}
    assert gpu.kubectl("get", "pods", "-n", "team-a", "--token", token).returncode == 0
    assert "Forbidden" in gpu.kubectl("get", "pods", "-n", "default", "--token", token, check=False).stderr
    short = gpu.kubectl("create", "token", "reader", "-n", "team-a", "--duration=1m", check=False)
    assert short.returncode != 0 and "may not specify a duration less than 10 minutes" in short.stderr
    gpu.kubectl("delete", "serviceaccount", "reader", "-n", "team-a")
    p = gpu.kubectl("get", "pods", "-n", "team-a", "--token", token, check=False)
    assert p.returncode == 1 and "Unauthorized" in p.stderr


def test_leader_hand_over_between_the_operator_pods(gpu):
    pods = wait_for_running_operator(gpu)
    old = leader(gpu)
    victim = next(p for p in pods if p["metadata"]["name"] == old)
    pid = pid_of(gpu, victim)
    gpu.kubectl("delete", "pod", old, "-n", "llmops-system", "--wait=false")
    wait_for("the leader's process to stop", lambda: not alive(pid), timeout=60)
    new = wait_for("another Pod to take the lease", lambda: (lambda h: h if h and h != old else None)(leader(gpu)), timeout=60)
    # The leader released the lease as it stopped: the survivor or the replacement Pod the
    # Deployment started may take it.
    now = wait_for_running_operator(gpu)
    assert new in {p["metadata"]["name"] for p in now} and old not in {p["metadata"]["name"] for p in now}
    gpu.kubectl("patch", "llmd", "llama-3-1-8b-chat", "-n", "team-a", "--type=merge", "-p", '{"spec":{"replicas":1}}')
    wait_for("the new leader to reconcile", lambda: gpu.get_json("llmd", "llama-3-1-8b-chat", "-n", "team-a")["status"].get("observedGeneration") == 2,
             timeout=60)


def test_kustomize_uninstall_removes_everything(gpu):
    pids = [pid_of(gpu, p) for p in operator_pods(gpu)]
    gpu.kubectl("delete", "canaryrun,sp,llmd", "--all", "-n", "team-a", "--wait=true", timeout=90)
    # The Namespace comes first in the render, and this control plane empties it at once, so
    # the namespaced objects after it are already gone.
    gpu.kubectl("delete", "-k", str(ROOT / "manifests" / "default"), "--wait=true", "--ignore-not-found", timeout=120)
    wait_for("the operator processes to stop", lambda: not any(alive(p) for p in pids), timeout=60)
    assert gpu.kubectl("get", "namespace", "llmops-system", check=False).returncode == 1
    assert gpu.kubectl("get", "clusterrole,clusterrolebinding", "llmops-operator", check=False).returncode == 1
    assert gpu.kubectl("get", "crd", "llmdeployments.llmops.io", check=False).returncode == 1


def test_helm_install_runs_the_operator_and_uninstalls(gpu):
    if not os.access(HELM, os.X_OK):
        pytest.skip(f"{HELM} is missing: run hack/get-helm.sh")

    def helm(*args):
        p = subprocess.run([HELM, *args], capture_output=True, text=True, timeout=180, env=gpu.env())
        assert p.returncode == 0, f"helm {' '.join(args)}:\n{p.stdout}\n{p.stderr}"
        return p.stdout

    # Requests from here on: the kustomize install's Pods may have been refused their Lease
    # while it was uninstalled (its Role goes before they stop), as on any cluster.
    start = audit_lines(gpu)
    helm("install", "llmops", str(ROOT / "charts" / "llmops"), "-n", "llmops-system", "--create-namespace", "--wait", "--timeout", "120s")
    pods = wait_for_running_operator(gpu)
    apply_sample(gpu, "team-b")
    denied = [e["requestURI"] for e in operator_requests(gpu, since=start) if e["responseStatus"]["code"] == 403]
    assert not denied, f"the chart's ClusterRole is not enough for: {denied}"
    pids = [pid_of(gpu, p) for p in pods]
    gpu.kubectl("delete", "canaryrun,sp,llmd", "--all", "-n", "team-b", "--wait=true", timeout=90)
    helm("uninstall", "llmops", "-n", "llmops-system", "--wait", "--timeout", "120s")
    wait_for("the operator processes to stop", lambda: not any(alive(p) for p in pids), timeout=60)
    assert gpu.kubectl("get", "clusterrole", "llmops-operator", check=False).returncode == 1
    assert not operator_pods(gpu)

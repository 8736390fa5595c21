"""Mid-suite restart: kill -9 the server, start it on the same data dir, and check that every
object comes back with the same uid and resourceVersion and that writes continue above them."""
import json

from conftest import ROOT


def snapshot(cp):
    kinds = cp.kubectl("api-resources", "--verbs=list", "-o", "name").stdout.split()
    state = {}
    for kind in kinds:
        items = json.loads(cp.kubectl("get", kind, "-A", "-o", "json").stdout)["items"]
        for o in items:
            m = o["metadata"]
            state[(kind, m.get("namespace", ""), m["name"])] = (m["uid"], m["resourceVersion"], json.dumps(o, sort_keys=True))
    return state


def test_kill_nine_and_restart_loses_nothing(cp, crds):
    cp.kubectl("create", "namespace", "restart")
    cp.kubectl("create", "configmap", "before", "-n", "restart", "--from-literal=k=v")
    sample = (ROOT / "manifests" / "samples" / "llmdeployment-llama-8b.yaml").read_text()
    cp.kubectl("apply", "-n", "restart", "-f", "-", stdin=sample.replace("namespace: inference", "namespace: restart"))
    before = snapshot(cp)
    assert len(before) >= 10, len(before)
    cp.kill9()
    cp.start()
    after = snapshot(cp)
    assert after == before
    top = max(int(rv) for _, rv, _ in before.values())
    cp.kubectl("create", "configmap", "after", "-n", "restart")
    rv = int(cp.kubectl("get", "cm", "after", "-n", "restart", "-o", "jsonpath={.metadata.resourceVersion}").stdout)
    assert rv > top
    # CRDs are served again at once, with their printer columns.
    table = cp.kubectl("get", "llmd", "-n", "restart").stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "READY", "DESIRED"] and table[1].startswith("llama-3-1-8b-chat")

"""Create rate of a custom resource whose CRD has 20 CEL validation rules, against the same
CRD without rules, on one `llmops up` (run by hack/bench-cel.sh). Prints creates/s for both
and the ratio; both are measured in the same run, from the same concurrent HTTPS clients."""
import argparse
import copy
import json
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_control_plane import Client  # noqa: E402
from benchlib import start_up  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# The same 20 rules the Swift benchmark (CELBenchmark) evaluates.
RULES = [line for line in (Path(__file__).resolve().parent / "cel-bench-rules.txt").read_text().splitlines() if line and not line.startswith("#")]


def crd(kind, rules):
    s = lambda n=256, **kw: {"type": "string", "maxLength": n, **kw}  # noqa: E731
    arr = lambda item, n=16: {"type": "array", "maxItems": n, "items": item}  # noqa: E731
    backend = {"type": "object", "properties": {"name": s(), "weight": {"type": "integer"}}}
    rule = {"type": "object", "properties": {"name": s(), "path": s(), "backends": arr(backend)}}
    spec = {"type": "object", "properties": {
        "replicas": {"type": "integer"}, "maxReplicas": {"type": "integer"}, "hostnames": arr(s(253)), "rules": arr(rule), "name": s(63),
        "labels": {"type": "object", "maxProperties": 32, "additionalProperties": s(63)}, "timeout": s(format="duration"),
        "notBefore": s(format="date-time"), "memory": {"x-kubernetes-int-or-string": True}, "allowFrom": arr(s(64)), "version": s(32),
        "docs": s(), "mode": s(16)}}
    if rules:
        spec["x-kubernetes-validations"] = [{"rule": r, "message": "failed"} for r in rules]
    plural = kind.lower() + "s"
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": f"{plural}.bench.example.com"},
            "spec": {"group": "bench.example.com", "scope": "Namespaced", "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}}}]}}


SPEC = {"replicas": 3, "maxReplicas": 10, "hostnames": ["chat.example.com", "api.example.com"],
        "rules": [{"name": "default", "path": "/", "backends": [{"name": "a", "weight": 90}, {"name": "b", "weight": 10}]},
                  {"name": "v1", "path": "/v1", "backends": [{"name": "a", "weight": 1}]}],
        "name": "chat", "labels": {"team": "ml", "tier": "gold"}, "timeout": "90s", "notBefore": "2026-01-01T00:00:00Z", "memory": "16Gi",
        "allowFrom": ["10.0.0.0/8", "192.168.0.0/16"], "version": "v1.2", "docs": "https://example.com/x", "mode": "safe"}


def create_rate(port, token, ca, kind, n, clients, tag):
    plural = kind.lower() + "s"
    path = f"/apis/bench.example.com/v1/namespaces/default/{plural}"
    per = n // clients
    errors = []

    def work(k):
        try:
            c = Client(port, token, ca)
            for i in range(per):
                body = {"apiVersion": "bench.example.com/v1", "kind": kind, "metadata": {"name": f"{tag}-{k}-{i}"}, "spec": copy.deepcopy(SPEC)}
                c.call("POST", path, body)
        except Exception as e:  # noqa: BLE001 - reported after the run
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} client(s) failed: {errors[0]}")
    return per * clients / (time.time() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / ".build" / "release" / "llmops"))
    ap.add_argument("--objects", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=8)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="llmops-bench-cel-")
    proc, text = start_up(a.binary, data, "--gpus", "none", "--no-operator")
    try:
        port = int(re.search(r"127\.0\.0\.1:(\d+)", text).group(1))
        token = (Path(data) / "admin.token").read_text().strip()
        ca = str(Path(data) / "pki" / "ca.crt")
        c = Client(port, token, ca)
        for kind, rules in (("Plain", []), ("Checked", RULES)):
            c.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd(kind, rules))
        time.sleep(1)
        # Warm up both paths, then measure alternately.
        create_rate(port, token, ca, "Plain", 80, 8, "warm")
        create_rate(port, token, ca, "Checked", 80, 8, "warm")
        plain = create_rate(port, token, ca, "Plain", a.objects, a.clients, "run")
        checked = create_rate(port, token, ca, "Checked", a.objects, a.clients, "run")
        print(f"create rate, {a.objects} objects from {a.clients} HTTPS clients (client and server share this machine's cores)")
        print(f"  CRD without rules (baseline): {plain:8.0f} creates/s")
        print(f"  CRD with 20 CEL rules:        {checked:8.0f} creates/s  ({checked / plain:.2f}x baseline)")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()

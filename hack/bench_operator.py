"""Benchmark of the operator at fleet scale, run by hack/bench-operator.sh.

`llmops up` brings up a simulated cluster (default 500 H100x8 + 500 L40Sx4 nodes, no
in-process operator); `llmops operator` runs as its own process against it, as on a real
cluster. N LLMDeployments (an 8B model, H100 or L40S allowed), each with a ScalingPolicy, are
applied at once with kubectl. Reported:
  - time from the apply to every LLMDeployment Ready, and that minus the modelled start-up
    of one vLLM Pod (what the control loops cost on top of loading weights);
  - reconcile latency p50/p99 per controller, from the operator's own
    controller_runtime_reconcile_time_seconds histogram (bucket interpolation, as PromQL's
    histogram_quantile), during the roll-out and in the steady state after it;
  - API requests per reconcile: rest_client_requests_total over controller_runtime_reconcile_total,
    both from the operator's /metrics, for the same two phases;
  - RSS of the operator (peak and settled) and of `llmops up`.
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.request

from benchlib import free_port, rss_mb, start_up






SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)')


def scrape(url):
    """Prometheus text as a list of (name, labels, value)."""
    out = []
    for line in urllib.request.urlopen(url, timeout=10).read().decode().splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def total(samples, name, **match):
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in match.items()))


def buckets(samples, controller):
    b = {}
    for n, l, v in samples:
        if n == "controller_runtime_reconcile_time_seconds_bucket" and l.get("controller") == controller:
            b[float(l["le"])] = v
    return sorted(b.items())


def quantile(q, before, after):
    """histogram_quantile over the increase between two scrapes."""
    prev = dict(before)
    inc = [(le, c - prev.get(le, 0)) for le, c in after]
    if not inc or inc[-1][1] <= 0:
        return None
    rank = q * inc[-1][1]
    lower, below = 0.0, 0.0
    for le, c in inc:
        if c >= rank:
            if le == float("inf"):
                return lower
            return lower + (le - lower) * (rank - below) / max(c - below, 1e-12)
        lower, below = le, c
    return lower


def manifests(n, namespace):
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}]
    for i in range(n):
        name = f"model-{i:04d}"
        docs.append({
            "apiVersion": "llmops.io/v1alpha1", "kind": "LLMDeployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "model": {"name": "meta-llama/Llama-3.1-8B-Instruct", "source": "hf://meta-llama/Llama-3.1-8B-Instruct", "parameterCount": "8B", "precision": "bf16", "contextLength": 8192},
                "engine": {"kind": "vllm", "image": "vllm/vllm-openai:v0.8.5"},
                "slo": {"ttftP95Ms": 800, "itlP95Ms": 60, "attainment": 0.99},
                "gpu": {"allowedTypes": ["H100", "L40S"], "tensorParallel": "auto"},
                "scalingPolicyRef": {"name": name},
            },
        })
        docs.append({
            "apiVersion": "llmops.io/v1alpha1", "kind": "ScalingPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"targetRef": {"name": name}, "minReplicas": 1, "maxReplicas": 4, "mode": "reactive",
                     "targets": {"queueDepthPerReplica": 8, "ttftP95Ms": 800}},
        })
    return "\n".join(json.dumps(d) for d in docs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gpus", default="h100:500x8,l40s:500x4")
    ap.add_argument("--count", type=int, default=500, help="LLMDeployments (each with a ScalingPolicy)")
    ap.add_argument("--time-scale", type=float, default=1)
    ap.add_argument("--steady", type=float, default=60, help="seconds of steady state measured after all are Ready")
    ap.add_argument("--timeout", type=float, default=1200)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="llmops-bench-operator-")
    started = time.monotonic()
    up, _ = start_up(a.binary, data, "--gpus", a.gpus, "--time-scale", str(a.time_scale), "--no-operator", ready="simulated nodes ready")
    registered = time.monotonic() - started
    env = dict(os.environ, KUBECONFIG=f"{data}/kubeconfig")

    def k(*args, stdin=None):
        r = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, input=stdin)
        if r.returncode != 0:
            raise SystemExit(f"kubectl {' '.join(args)}: {r.stderr[-2000:]}")
        return r

    try:
        run(a, up, registered, k, env)
    finally:
        up.terminate()
        up.wait(timeout=120)


def run(a, up, registered, k, env):
    k("apply", "--server-side", "-f", "crds/")
    metrics_port, health_port = free_port(), free_port()
    op = subprocess.Popen(
        [a.binary, "operator", "--kubeconfig", env["KUBECONFIG"], "--metrics-bind-address", f"127.0.0.1:{metrics_port}",
         "--health-probe-bind-address", f"127.0.0.1:{health_port}", "--time-scale", str(a.time_scale), "--log-level", "error"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{health_port}/readyz", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    idle_op, idle_up = rss_mb(op.pid), rss_mb(up.pid)
    peak = {"op": idle_op, "up": idle_up}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak["op"] = max(peak["op"], rss_mb(op.pid))
            peak["up"] = max(peak["up"], rss_mb(up.pid))
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    before = scrape(url)
    start = time.monotonic()
    k("apply", "--server-side", "-f", "-", stdin=manifests(a.count, "bench"))
    applied = time.monotonic() - start
    # Watched with the Python client (one stream; listing 500 objects every second with
    # kubectl would take a core from the processes being measured).
    from kubernetes import client as kc, config as kconfig, watch as kwatch
    kconfig.load_kube_config(config_file=env["KUBECONFIG"])
    api = kc.CustomObjectsApi()
    is_ready = {}
    w = kwatch.Watch()
    while len([v for v in is_ready.values() if v]) < a.count and time.monotonic() - start < a.timeout:
        for ev in w.stream(api.list_namespaced_custom_object, "llmops.io", "v1alpha1", "bench", "llmdeployments", timeout_seconds=30):
            o = ev["object"]
            conds = (o.get("status") or {}).get("conditions", [])
            is_ready[o["metadata"]["name"]] = ev["type"] != "DELETED" and any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)
            if sum(is_ready.values()) >= a.count or time.monotonic() - start > a.timeout:
                w.stop()
                break
    ready = sum(is_ready.values())
    all_ready = time.monotonic() - start
    rollout = scrape(url)
    time.sleep(a.steady)
    steady = scrape(url)
    if os.environ.get("BENCH_DUMP"):
        open(os.environ["BENCH_DUMP"], "w").write(urllib.request.urlopen(url, timeout=10).read().decode())
    settled_op, settled_up = rss_mb(op.pid), rss_mb(up.pid)
    pods = len(json.loads(k("get", "pods", "-n", "bench", "-o", "json").stdout)["items"])
    stop.set()
    op.terminate()
    op.wait(timeout=60)

    startup = 38 / a.time_scale
    print(f"cluster: {a.gpus} ({registered:.1f} s to register), {a.count} LLMDeployments + {a.count} ScalingPolicies, "
          f"{pods} Pods, time scale {a.time_scale:g} (8B start-up {startup:.1f} s)")
    if ready < a.count:
        print(f"only {ready} of {a.count} LLMDeployments Ready within {a.timeout:.0f} s")
    print(f"apply (kubectl --server-side, {2 * a.count} objects) {applied:8.1f} s")
    print(f"apply to all Ready          {all_ready:8.1f} s   (minus modelled start-up: {all_ready - startup:.1f} s)")
    for phase, b, e, secs in (("roll-out", before, rollout, all_ready), ("steady", rollout, steady, a.steady)):
        requests = total(e, "rest_client_requests_total") - total(b, "rest_client_requests_total")
        reconciles = total(e, "controller_runtime_reconcile_total") - total(b, "controller_runtime_reconcile_total")
        print(f"{phase:9s} {reconciles:7.0f} reconciles ({reconciles / secs:6.1f}/s), {requests:7.0f} API requests ({requests / secs:6.1f}/s): "
              f"{requests / max(reconciles, 1):.2f} requests per reconcile")
        by_method = {}
        for n, l, v in e:
            if n == "rest_client_requests_total":
                key = f"{l.get('method')} {l.get('code')}"
                by_method[key] = by_method.get(key, 0) + v - total(b, n, method=l.get("method"), code=l.get("code"))
        print("    requests: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(by_method.items()) if v))
        for c in ("llmdeployment", "scalingpolicy", "canaryrun"):
            n = total(e, "controller_runtime_reconcile_total", controller=c) - total(b, "controller_runtime_reconcile_total", controller=c)
            if n == 0:
                continue
            p50, p99 = quantile(0.5, buckets(b, c), buckets(e, c)), quantile(0.99, buckets(b, c), buckets(e, c))
            print(f"    {c:14s} {n:7.0f} reconciles  p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms")
    print(f"operator RSS   {idle_op:6.0f} MB idle, {peak['op']:.0f} MB peak, {settled_op:.0f} MB settled")
    print(f"llmops up RSS  {idle_up:6.0f} MB idle, {peak['up']:.0f} MB peak, {settled_up:.0f} MB settled")


if __name__ == "__main__":
    main()

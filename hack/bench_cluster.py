"""Benchmark of the simulated GPU cluster (`llmops up --gpus h100:NODESx8`), run by
hack/bench-cluster.sh.

One Deployment of a 1-GPU vLLM Pod is scaled from 0 to P replicas with `kubectl scale`; the
script watches the Pods and reports:
  - scheduling throughput: Pods bound per second, from the scale to the last binding;
  - time from the scale to all P Ready, and that time minus the modelled start-up (an 8B
    model: 38 s divided by --time-scale), i.e. what the control loop itself costs;
  - RSS of `llmops up` (peak while scaling and after), from /proc.
The operator is off: this measures the cluster's own components.
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import threading
import time

from benchlib import rss_mb, start_up




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--nodes", type=int, default=50)
    ap.add_argument("--pods", type=int, default=300)
    ap.add_argument("--time-scale", type=float, default=100)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="llmops-bench-cluster-")
    proc, _ = start_up(a.binary, data, "--gpus", f"h100:{a.nodes}x8", "--time-scale", str(a.time_scale), "--no-operator", ready="simulated nodes ready")
    env = dict(os.environ, KUBECONFIG=f"{data}/kubeconfig")
    k = lambda *args, **kw: subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, check=True, **kw)
    idle = rss_mb(proc.pid)
    k("create", "deployment", "bench", "--image=vllm/vllm-openai:v0.8.5", "--replicas=0", "--", "vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct")
    k("set", "resources", "deployment", "bench", "--limits=nvidia.com/gpu=1")
    # The resource change is a new revision; let it finish so the scale goes to one ReplicaSet.
    k("rollout", "status", "deployment", "bench", "--timeout=60s")
    peak = [idle]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(proc.pid))
            time.sleep(0.1)

    threading.Thread(target=sample, daemon=True).start()
    # Watch the Pods (the Python client, one stream: polling lists of hundreds of Pods would
    # take the CPU the cluster is being measured on) and note when each is first seen,
    # bound and Ready.
    from kubernetes import client as kc, config as kconfig, watch as kwatch
    kconfig.load_kube_config(config_file=env["KUBECONFIG"])
    v1 = kc.CoreV1Api()
    seen, bound, ready = {}, {}, {}
    rv = v1.list_namespaced_pod("default", label_selector="app=bench").metadata.resource_version
    start = time.monotonic()
    k("scale", "deployment", "bench", f"--replicas={a.pods}")
    deadline = start + 600
    w = kwatch.Watch()
    while len(ready) < a.pods and time.monotonic() < deadline:
        for ev in w.stream(v1.list_namespaced_pod, "default", label_selector="app=bench", resource_version=rv, timeout_seconds=30):
            p = ev["object"]
            rv = p.metadata.resource_version
            now = time.monotonic()
            name = p.metadata.name
            seen.setdefault(name, now)
            if p.spec.node_name and name not in bound:
                bound[name] = now
            if any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or [])) and name not in ready:
                ready[name] = now
            if len(ready) >= a.pods or now > deadline:
                w.stop()
                break
    if len(ready) < a.pods:
        print(f"only {len(ready)} of {a.pods} Pods became Ready within 600 s")
    stop.set()
    last_bound = max(bound.values()) if bound else start
    all_ready = (max(ready.values()) if ready else time.monotonic()) - start
    startup = 38 / a.time_scale
    after = rss_mb(proc.pid)
    proc.terminate()
    proc.wait(timeout=60)
    print(f"cluster: {a.nodes} nodes x 8 H100, {a.pods} Pods of 1 GPU, time scale {a.time_scale:g} (8B start-up {startup:.2f} s)")
    print(f"Pods created by the ReplicaSet controller: all {len(seen)} within {max(seen.values()) - start:.2f} s")
    print(f"scheduling throughput   {len(bound) / max(last_bound - start, 1e-9):8.1f} Pods/s  ({len(bound)} bound in {last_bound - start:.2f} s)")
    print(f"scale to all Ready      {all_ready:8.2f} s       (minus modelled start-up: {all_ready - startup:.2f} s)")
    print(f"RSS of llmops up        {idle:8.0f} MB idle, {peak[0]:.0f} MB peak, {after:.0f} MB with {a.pods} Pods")


if __name__ == "__main__":
    main()

"""Compares the Swift controller runtime with kopf on the same server, in the same run.

Both run a no-op handler over N ScalingPolicies stored in `llmops up`:
  1. initial sync: from process start until every object has been handled once;
  2. burst: M objects are patched at once; time until every change has been handled.
Peak RSS of each operator process is sampled throughout. Prints each figure and the
Swift/kopf ratios next to the issue's goals (>= 20x throughput, <= 1/4 memory).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_control_plane import Client, parallel, policy, rss_mb, start  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class Operator:
    """Runs one operator process and records when each `count N` line arrives."""

    def __init__(self, name, argv, env):
        self.name = name
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.counts = {}
        self.peak_rss = 0.0
        self.done = False
        self.errors = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("count "):
                self.counts[int(line.split()[1])] = time.monotonic()

    def _read_errors(self):
        for line in self.proc.stderr:
            self.errors.append(line.rstrip())

    def _sample(self):
        while self.proc.poll() is None and not self.done:
            try:
                self.peak_rss = max(self.peak_rss, rss_mb(self.proc.pid))
            except OSError:
                break
            time.sleep(0.1)

    def wait_for(self, n, timeout):
        deadline = time.monotonic() + timeout
        while n not in self.counts:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                tail = "\n".join(self.errors[-15:])
                raise SystemExit(f"{self.name}: never reached {n} handled objects (got {max(self.counts, default=0)})\n{tail}")
            time.sleep(0.01)
        return self.counts[n]

    def stop(self):
        self.done = True
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure(name, argv, env, clients, base, n, m, round_no):
    op = Operator(name, argv, env)
    try:
        synced = op.wait_for(n, 900) - op.started
        t0 = time.monotonic()
        parallel(clients, m, lambda c, i: c.call(
            "PATCH", f"{base}/p-{i:05d}", {"metadata": {"labels": {"round": f"{name}-{round_no}"}}}, "application/merge-patch+json"))
        burst = op.wait_for(n + m, 900) - t0
        return {"sync_s": synced, "sync_rate": n / synced, "burst_s": burst, "burst_rate": m / burst, "rss_mb": op.peak_rss}
    finally:
        op.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llmops", required=True)
    ap.add_argument("--swift-operator", required=True)
    ap.add_argument("--objects", type=int, default=10_000)
    ap.add_argument("--burst", type=int, default=2_000)
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()
    n, m = args.objects, args.burst
    assert n % 1000 == 0 and m % 1000 == 0, "counts are reported per 1,000"

    data = tempfile.mkdtemp(prefix="llmops-bench-runtime-")
    proc, port = start(args.llmops, data)
    token = Path(data, "admin.token").read_text().strip()
    ca = str(Path(data, "pki", "ca.crt"))
    kubeconfig = str(Path(data, "kubeconfig"))
    env = dict(os.environ, KUBECONFIG=kubeconfig, HOME=data)
    try:
        subprocess.run(["kubectl", "apply", "-f", str(ROOT / "crds")], env=env, check=True, capture_output=True)
        subprocess.run(["kubectl", "create", "namespace", "bench"], env=env, check=True, capture_output=True)
        base = "/apis/llmops.io/v1alpha1/namespaces/bench/scalingpolicies"
        clients = [Client(port, token, ca) for _ in range(args.clients)]
        parallel(clients, n, lambda c, i: c.call("POST", base, policy(i)))
        print(f"{n} ScalingPolicies stored; burst of {m} patches per operator", flush=True)

        swift = measure("swift", [args.swift_operator, kubeconfig], env, clients, base, n, m, 1)
        kopf_argv = [sys.executable, "-m", "kopf", "run", "--standalone", "--all-namespaces", "--quiet", str(ROOT / "hack" / "bench_kopf_operator.py")]
        kopf = measure("kopf", kopf_argv, env, clients, base, n, m, 2)
    finally:
        proc.terminate()
        proc.wait()

    print()
    print(f"{'':28}{'Swift runtime':>16}{'kopf':>12}{'ratio':>10}  goal")
    print(f"{'initial sync + reconcile (s)':28}{swift['sync_s']:>16.2f}{kopf['sync_s']:>12.2f}")
    ratio = swift["sync_rate"] / kopf["sync_rate"]
    print(f"{'  objects/s':28}{swift['sync_rate']:>16,.0f}{kopf['sync_rate']:>12,.0f}{ratio:>9.1f}x  >= 20x: {'met' if ratio >= 20 else 'NOT met'}")
    burst = swift["burst_rate"] / kopf["burst_rate"]
    print(f"{'burst of changes (s)':28}{swift['burst_s']:>16.2f}{kopf['burst_s']:>12.2f}")
    print(f"{'  reconciles/s':28}{swift['burst_rate']:>16,.0f}{kopf['burst_rate']:>12,.0f}{burst:>9.1f}x  (bounded by the patch generator)")
    mem = swift["rss_mb"] / kopf["rss_mb"]
    print(f"{'peak RSS (MB)':28}{swift['rss_mb']:>16.1f}{kopf['rss_mb']:>12.1f}{mem:>9.2f}x  <= 0.25x: {'met' if mem <= 0.25 else 'NOT met'}")


if __name__ == "__main__":
    main()

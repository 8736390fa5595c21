"""Compares the Swift controller runtime with kopf on the same server, in the same run.

Both run a no-op handler over N ScalingPolicies stored in `llmops up`:
  1. initial sync: from process start until every object has been handled once;
  2. live burst: M objects are patched while the operator runs; time until every change has
     been handled. The patch generator bounds this rate, so it shows latency under load, not
     capacity;
  3. backlog (steady-state capacity): the operator is paused (SIGSTOP), M more patches are
     made, and it is resumed (SIGCONT) with M changes waiting in its watch stream; time until
     all have been handled. Nothing but the operator bounds this rate.
CPU time (user + system) of the operator is read from /proc for each phase.
Peak RSS of each operator process is sampled throughout. Prints each figure and the
Swift/kopf ratios next to the issue's goals (>= 20x throughput, <= 1/4 memory).
"""
import argparse
import os
import signal
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

    def cpu_seconds(self):
        """User plus system CPU time of the operator process so far."""
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.done = True
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure(name, argv, env, clients, base, n, m, round_no):
    op = Operator(name, argv, env)

    def patch_all(label):
        parallel(clients, m, lambda c, i: c.call(
            "PATCH", f"{base}/p-{i:05d}", {"metadata": {"labels": {"round": f"{name}-{round_no}-{label}"}}}, "application/merge-patch+json"))

    try:
        synced = op.wait_for(n, 900) - op.started
        sync_cpu = op.cpu_seconds()
        time.sleep(1)  # let the initial sync's stragglers (metrics, GC) settle
        cpu0 = op.cpu_seconds()
        t0 = time.monotonic()
        patch_all("live")
        live = op.wait_for(n + m, 900) - t0
        live_cpu = op.cpu_seconds() - cpu0
        time.sleep(1)

        op.proc.send_signal(signal.SIGSTOP)
        patch_all("backlog")
        time.sleep(1)  # the server has pushed every change into the paused operator's stream
        cpu0 = op.cpu_seconds()
        t0 = time.monotonic()
        op.proc.send_signal(signal.SIGCONT)
        backlog = op.wait_for(n + 2 * m, 900) - t0
        backlog_cpu = op.cpu_seconds() - cpu0
        return {"sync_s": synced, "sync_rate": n / synced, "sync_cpu": sync_cpu,
                "live_s": live, "live_rate": m / live, "live_cpu": live_cpu,
                "backlog_s": backlog, "backlog_rate": m / backlog, "backlog_cpu": backlog_cpu, "rss_mb": op.peak_rss}
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
    assert m <= 10_000, "a paused operator's watch buffers at most 10,000 changes in the server"

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

    def row(label, key, fmt, ratio=None, goal=None):
        line = f"{label:34}{format(swift[key], fmt):>14}{format(kopf[key], fmt):>12}"
        if ratio is not None:
            line += f"{ratio:>9.2f}x" + (f"  {goal}" if goal else "")
        print(line)

    print()
    print(f"{'':34}{'Swift runtime':>14}{'kopf':>12}{'ratio':>10}  goal")
    sync = swift["sync_rate"] / kopf["sync_rate"]
    row("initial sync + reconcile (s)", "sync_s", ".2f")
    row("  objects/s", "sync_rate", ",.0f", sync, f">= 20x: {'met' if sync >= 20 else 'NOT met'}")
    row("  operator CPU (s)", "sync_cpu", ".2f")
    backlog = swift["backlog_rate"] / kopf["backlog_rate"]
    row(f"backlog of {m:,} changes (s)", "backlog_s", ".2f")
    row("  reconciles/s (steady state)", "backlog_rate", ",.0f", backlog, f">= 20x: {'met' if backlog >= 20 else 'NOT met'}")
    row("  operator CPU (s)", "backlog_cpu", ".2f")
    row(f"live burst of {m:,} changes (s)", "live_s", ".2f")
    row("  reconciles/s", "live_rate", ",.0f", swift["live_rate"] / kopf["live_rate"], "(bounded by the patch generator)")
    row("  operator CPU (s)", "live_cpu", ".2f")
    mem = swift["rss_mb"] / kopf["rss_mb"]
    row("peak RSS (MB)", "rss_mb", ".1f", mem, f"<= 0.25x: {'met' if mem <= 0.25 else 'NOT met'}")


if __name__ == "__main__":
    main()

"""Benchmark of the embedded control plane (`llmops up`), run by hack/bench-control-plane.sh.

Measures, in one run on this machine:
  - write throughput: N creates, then N updates, from C concurrent HTTPS clients;
  - `kubectl get` of all N custom resources (server-side Table, as users run it), in one
    request and in kubectl's default pages of 500;
  - server RSS with the N resources stored;
  - watch fan-out: W concurrent watchers, time from a write's acknowledgement to each
    watcher receiving the event (p50/p99 over several writes).
The goals from the issue are printed next to each figure.
"""
import argparse
import http.client
import json
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchlib import start_up

ROOT = Path(__file__).resolve().parents[1]


def start(binary, data):
    proc, text = start_up(binary, data)
    return proc, int(re.search(r"127\.0\.0\.1:(\d+)", text).group(1))


class Client:
    def __init__(self, port, token, ca):
        self.ctx = ssl.create_default_context(cafile=ca)
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=self.ctx, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method, path, body=None, content_type=None):
        headers = dict(self.headers)
        if content_type:
            headers["Content-Type"] = content_type
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status} {data[:200]!r}")
        return data


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def policy(i):
    return {"apiVersion": "llmops.io/v1alpha1", "kind": "ScalingPolicy",
            "metadata": {"name": f"p-{i:05d}", "labels": {"bench": "yes", "shard": str(i % 10)}},
            "spec": {"targetRef": {"name": f"model-{i}"}, "minReplicas": 1, "maxReplicas": 8}}


def parallel(clients, n, work):
    """Runs work(client, i) for i in range(n) spread over the clients; returns seconds."""
    def run(c, k):
        for i in range(k, n, len(clients)):
            work(c, i)
    threads = [threading.Thread(target=run, args=(c, k)) for k, c in enumerate(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / ".build" / "release" / "llmops"))
    ap.add_argument("--objects", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--watchers", type=int, default=100)
    ap.add_argument("--probes", type=int, default=20)
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="llmops-bench-")
    proc, port = start(args.binary, data)
    token = Path(data, "admin.token").read_text().strip()
    ca = str(Path(data, "pki", "ca.crt"))
    env = dict(os.environ, KUBECONFIG=str(Path(data, "kubeconfig")), HOME=data)
    try:
        subprocess.run(["kubectl", "apply", "-f", str(ROOT / "crds")], env=env, check=True, capture_output=True)
        subprocess.run(["kubectl", "create", "namespace", "bench"], env=env, check=True, capture_output=True)
        base = "/apis/llmops.io/v1alpha1/namespaces/bench/scalingpolicies"
        idle = rss_mb(proc.pid)

        clients = [Client(port, token, ca) for _ in range(args.clients)]
        secs = parallel(clients, args.objects, lambda c, i: c.call("POST", base, policy(i)))
        creates = args.objects / secs
        secs = parallel(clients, args.objects, lambda c, i: c.call(
            "PATCH", f"{base}/p-{i:05d}", {"spec": {"maxReplicas": 9}}, "application/merge-patch+json"))
        updates = args.objects / secs

        def kubectl_get(*extra):
            t0 = time.perf_counter()
            out = subprocess.run(["kubectl", "get", "scalingpolicies", "-n", "bench", "--no-headers", *extra], env=env, check=True, capture_output=True, text=True).stdout
            return time.perf_counter() - t0, len(out.splitlines())

        # kubectl's default is pages of 500; its own client-side limiter (5 requests/s after a
        # burst of 10) then spaces the last 10 of 20 requests 200 ms apart, a 2 s floor that
        # no server can lower. One request (--chunk-size=0) shows what the server costs.
        get_all, listed = kubectl_get("--chunk-size=0")
        get_paged, _ = kubectl_get()
        rss = rss_mb(proc.pid)

        # Watch fan-out: each watcher reads the stream on its own connection.
        received = [[] for _ in range(args.watchers)]
        ready = threading.Barrier(args.watchers + 1)

        def watch(k):
            ctx = ssl.create_default_context(cafile=ca)
            conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=120)
            conn.request("GET", f"{base}?watch=true&labelSelector=probe%3Dyes&timeoutSeconds=120", headers={"Authorization": f"Bearer {token}"})
            r = conn.getresponse()
            ready.wait()
            buf = b""
            while len(received[k]) < args.probes:
                chunk = r.read1(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        received[k].append((time.perf_counter(), json.loads(line)["object"]["metadata"]["name"]))
            conn.close()

        threads = [threading.Thread(target=watch, args=(k,), daemon=True) for k in range(args.watchers)]
        for t in threads:
            t.start()
        ready.wait()
        time.sleep(1)
        writer = Client(port, token, ca)
        sent = {}
        for j in range(args.probes):
            body = policy(100_000 + j)
            body["metadata"]["labels"]["probe"] = "yes"
            writer.call("POST", base, body)
            sent[body["metadata"]["name"]] = time.perf_counter()
            time.sleep(0.1)
        for t in threads:
            t.join(timeout=30)
        delays = sorted((at - sent[name]) * 1000 for events in received for at, name in events if name in sent)
        expected = args.watchers * args.probes
        p50 = statistics.median(delays) if delays else float("nan")
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))] if delays else float("nan")

        print(f"llmops up benchmark: {args.objects} ScalingPolicies, {args.clients} clients, {args.watchers} watchers ({os.cpu_count()} CPUs)")
        print(f"  creates/s            {creates:8.0f}   goal >= 1000")
        print(f"  updates/s            {updates:8.0f}   goal >= 1000")
        print(f"  kubectl get (all)    {get_all:8.2f} s  goal < 2 s   ({listed} rows, --chunk-size=0)")
        print(f"  kubectl get (paged)  {get_paged:8.2f} s  (default pages of 500; >= 2 s of it is kubectl's own 5 QPS limiter)")
        print(f"  RSS idle / loaded    {idle:5.0f} / {rss:.0f} MB  goal < 300 MB")
        print(f"  watch delivery p50   {p50:8.1f} ms")
        print(f"  watch delivery p99   {p99:8.1f} ms  goal < 50 ms  ({len(delays)}/{expected} deliveries)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()

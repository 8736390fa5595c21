"""End-to-end suite: starts `llmops up` on a random port in a temp dir and drives it with the
real kubectl, the official Python client, raw HTTPS requests and Helm.

Run with `.venv/bin/python -m pytest Tests/e2e` (hack/test.sh does). LLMOPS_BIN picks the
binary (default .build/debug/llmops). The closing line reads `N passed, M failed`.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LLMOPS_BIN", ROOT / ".build" / "debug" / "llmops"))


class ControlPlane:
    """One `llmops up` process over a data directory that outlives restarts."""

    def __init__(self, data_dir: Path, args=(), ready_line="kubeconfig:"):
        self.data_dir = data_dir
        self.args = list(args)
        self.ready_line = ready_line
        self.home = data_dir / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = str(data_dir / "kubeconfig")
        self.proc = None
        self.port = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [str(BIN), "up", "--data-dir", str(self.data_dir), "--port", str(self.port or 0), *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 60
        text = ""
        while self.ready_line not in text and time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            text += line
        m = re.search(r"127\.0\.0\.1:(\d+)", text)
        if not m:
            raise RuntimeError(f"llmops up did not start: {text!r}")
        self.port = int(m.group(1))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def token(self) -> str:
        return (self.data_dir / "admin.token").read_text().strip()

    @property
    def ca(self) -> str:
        return str(self.data_dir / "pki" / "ca.crt")

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def env(self, **extra):
        env = dict(os.environ, HOME=str(self.home), KUBECONFIG=self.kubeconfig)
        env.update(extra)
        return env

    def kubectl(self, *args, stdin=None, check=True, timeout=60, env=None):
        """Runs kubectl; with check, a non-zero exit fails the test with its output."""
        p = subprocess.run(
            ["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=timeout,
            env=env or self.env())
        if check and p.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
        return p

    def get_json(self, *args):
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)


def gpu_plane(prefix, gpus, *args, namespaces=(), audit=False):
    """`llmops up --gpus GPUS ARGS...` for one test module, as a fixture body (`yield from`):
    a fresh data directory, the namespaces created, and everything removed afterwards;
    `audit` writes the audit log to DATA/audit.log."""
    data = Path(tempfile.mkdtemp(prefix=prefix))
    extra = ["--audit-log-path", str(data / "audit.log")] if audit else []
    plane = ControlPlane(data, args=["--gpus", gpus, *args, *extra], ready_line="simulated nodes ready")
    for ns in namespaces:
        plane.kubectl("create", "namespace", ns)
    try:
        yield plane
    finally:
        plane.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def cp():
    if not BIN.exists():
        pytest.exit(f"{BIN} is missing: run `swift build` first", returncode=2)
    data = Path(tempfile.mkdtemp(prefix="llmops-e2e-"))
    # The API server alone: these suites check what is stored, which live controllers would
    # change under them. test_60 runs the simulated cluster.
    plane = ControlPlane(data, args=["--gpus", "none", "--no-operator"])
    yield plane
    plane.stop()
    shutil.rmtree(data, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    passed = len(terminalreporter.stats.get("passed", []))
    failed = len(terminalreporter.stats.get("failed", [])) + len(terminalreporter.stats.get("error", []))
    terminalreporter.write_line(f"{passed} passed, {failed} failed")


@pytest.fixture(scope="session")
def crds(cp):
    """The project's CRDs, applied (idempotently) for suites that need them."""
    cp.kubectl("apply", "-f", str(ROOT / "crds"))
    return cp

"""Helpers shared by the hack/bench_*.py scripts."""
import socket
import subprocess


def rss_mb(pid):
    """Resident memory of a process in MB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return 0
    return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_up(binary, data, *args, ready="kubeconfig:"):
    """Starts `llmops up --data-dir DATA --port 0 ARGS...` and waits for the line holding
    `ready`; returns the process and everything it printed until then."""
    proc = subprocess.Popen([binary, "up", "--data-dir", data, "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    text = ""
    while ready not in text:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"llmops up failed: {text}")
        text += line
    return proc, text

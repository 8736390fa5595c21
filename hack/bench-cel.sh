#!/usr/bin/env bash
# Benchmark of CEL validation rules (issue 15): validation time of one object against a
# schema with 20 rules vs the same schema without rules (CELBenchmark), then the create
# rate of such custom resources on `llmops up` vs a CRD without rules, both measured in the
# same run. Release build; BUILD_PATH picks the build directory (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_PATH:-.build}
swift build -c release --build-path "$build" --product CELBenchmark >/dev/null
swift build -c release --build-path "$build" --product llmops >/dev/null
"$build/release/CELBenchmark" "${1:-20000}" hack/cel-bench-rules.txt
./hack/setup-venv.sh >/dev/null
.venv/bin/python hack/bench_cel.py --binary "$build/release/llmops" "${@:2}"

#!/usr/bin/env bash
# Benchmarks the operator at fleet scale (release build): 500 LLMDeployments with
# ScalingPolicies on 1,000 simulated nodes. Prints time to all Ready, reconcile p50/p99 per
# controller, API requests per reconcile, and the RSS of the operator and of `llmops up`.
# Arguments go to hack/bench_operator.py (--gpus, --count, --time-scale, --steady).
# BUILD_PATH overrides the build directory (e.g. .build-release beside a debug .build).
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/setup-venv.sh
build=(swift build -c release --product llmops)
[ -n "${BUILD_PATH:-}" ] && build+=(--build-path "$BUILD_PATH")
"${build[@]}"
.venv/bin/python hack/bench_operator.py --binary "$("${build[@]}" --show-bin-path)/llmops" "$@"

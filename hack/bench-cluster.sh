#!/usr/bin/env bash
# Benchmarks the simulated GPU cluster of `llmops up` (release build): 50 nodes × 8 H100s and
# 300 serving Pods. Prints scheduling throughput, time from `kubectl scale` to all Ready
# (minus the modelled start-up), and the RSS of `llmops up`. Arguments go to
# hack/bench_cluster.py (--nodes, --pods, --time-scale).
# BUILD_PATH overrides the build directory (e.g. .build-release beside a debug .build).
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/setup-venv.sh
build=(swift build -c release --product llmops)
[ -n "${BUILD_PATH:-}" ] && build+=(--build-path "$BUILD_PATH")
"${build[@]}"
.venv/bin/python hack/bench_cluster.py --binary "$("${build[@]}" --show-bin-path)/llmops" "$@"

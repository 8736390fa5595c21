#!/usr/bin/env bash
# Benchmarks the simulated GPU cluster of `llmops up` (release build): 50 nodes × 8 H100s and
# 300 serving Pods. Prints scheduling throughput, time from `kubectl scale` to all Ready
# (minus the modelled start-up), and the RSS of `llmops up`. Arguments go to
# hack/bench_cluster.py (--nodes, --pods, --time-scale).
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/setup-venv.sh
swift build -c release --product llmops
.venv/bin/python hack/bench_cluster.py --binary "$(swift build -c release --show-bin-path)/llmops" "$@"

#!/usr/bin/env bash
# Benchmarks `llmops up` (release build) with 10,000 custom resources: write throughput from
# concurrent clients, `kubectl get` of all of them, RSS, and watch fan-out latency to 100
# watchers. Prints each figure next to its goal. Arguments go to hack/bench_control_plane.py.
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/setup-venv.sh
swift build -c release --product llmops
.venv/bin/python hack/bench_control_plane.py --binary "$(swift build -c release --show-bin-path)/llmops" "$@"

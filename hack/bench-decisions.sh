#!/usr/bin/env bash
# Benchmark of the core's decisions in dollars (issue "Decisions at production scale"): every
# policy and configuration over the two Azure traces and held-out synthetic traces, at x1 and at
# a production scale, with the goals checked. Arguments go to hack/bench_decisions.py
# (--scale K, --traces ..., --skip-scaled). BUILD_PATH overrides the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
build=(swift build -c release --product llmops)
[ -n "${BUILD_PATH:-}" ] && build+=(--build-path "$BUILD_PATH")
"${build[@]}" >/dev/null
python3 hack/bench_decisions.py --binary "$("${build[@]}" --show-bin-path)/llmops" "$@"

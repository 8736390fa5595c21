#!/usr/bin/env bash
# Benchmark: one full-cluster decision of the optimization core (optimizer for every
# deployment, then placement of every replica), in a release build, with allocation counts.
# Usage: hack/bench-core.sh [nodes] [deployments] [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product CoreBenchmark >/dev/null
mkdir -p .build/hack
cc -O2 -shared -fPIC -o .build/hack/libmalloc-count.so hack/malloc-count.c -ldl
LD_PRELOAD="$PWD/.build/hack/libmalloc-count.so" .build/release/CoreBenchmark "${1:-1000}" "${2:-500}" "${3:-30}"

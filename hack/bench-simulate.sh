#!/usr/bin/env bash
# Benchmark: every policy and configuration (with their tuning sweeps) over each shared trace
# at x1 in a release build, against the 60 s budget per trace. hack/bench-decisions.sh is the
# full comparison (held-out traces, production scale, goals).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product llmops >/dev/null
for trace in traces/azure-llm-inference-2023-conv.csv traces/azure-llm-inference-2023-code.csv; do
  start=$(date +%s.%N)
  .build/release/llmops simulate --trace "$trace" --json ".build/$(basename "$trace" .csv).json" --svg ".build/$(basename "$trace" .csv).svg" 2>/dev/null
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'elapsed {s:.1f} s for all policies and configurations (budget 60 s: {s/60:.2f} of it)\n')" "$start" "$end"
done

#!/usr/bin/env bash
# Benchmark: all five policies (with their tuning sweeps) over each shared trace in a release
# build, against the 30 s budget for the 58-minute conversation trace.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product llmops >/dev/null
for trace in traces/azure-llm-inference-2023-conv.csv traces/azure-llm-inference-2023-code.csv; do
  start=$(date +%s.%N)
  .build/release/llmops simulate --trace "$trace" --json ".build/$(basename "$trace" .csv).json" --svg ".build/$(basename "$trace" .csv).svg" 2>/dev/null
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'elapsed {s:.1f} s for all five policies (budget 30 s: {s/30:.2f} of it)\n')" "$start" "$end"
done

#!/usr/bin/env bash
# The laptop walkthrough, end to end: `llmops up` (simulated GPU cluster + operator) -> the
# samples applied -> Pods on the GPU type the core chose -> a trace replayed and replicas
# following it -> a healthy CanaryRun promoted after approval -> a slower one rolled back ->
# `kubectl get` and `describe` telling the story. Modelled time runs SPEED (20) times faster.
#
#   hack/demo.sh                 # uses .build/release/llmops (builds it if missing)
#   LLMOPS_BIN=... SPEED=50 hack/demo.sh
#
# The replayed trace is the Azure LLM inference trace 2023 (conversation), CC-BY 4.0, from
# Patel et al., "Splitwise", ISCA 2024.
set -euo pipefail
cd "$(dirname "$0")/.."
SPEED=${SPEED:-20}
BIN=${LLMOPS_BIN:-.build/release/llmops}
[ -x "$BIN" ] || swift build -c release --product llmops
DIR=$(mktemp -d /tmp/llmops-demo-XXXX)
export KUBECONFIG=$DIR/kubeconfig
# Six 4×L40S nodes: room for the scaled fleet and a canary beside it.
"$BIN" up --data-dir "$DIR" --port 0 --time-scale "$SPEED" --gpus h100:2x8,l40s:6x4 > "$DIR/up.log" 2>&1 &
UP=$!
trap 'kill $UP 2>/dev/null; wait $UP 2>/dev/null || true' EXIT
until grep -q "simulated nodes ready" "$DIR/up.log" 2>/dev/null; do sleep 0.2; done
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
wait_for() { local what=$1; shift; until "$@" >/dev/null 2>&1; do sleep 0.5; done; }

cat "$DIR/up.log"
step kubectl get nodes -L nvidia.com/gpu.product,nvidia.com/gpu.count,topology.kubernetes.io/zone
step kubectl create namespace inference
step kubectl apply -f manifests/samples/llmdeployment-llama-8b.yaml -f manifests/samples/scalingpolicy-hybrid.yaml
wait_for ready kubectl wait --for=condition=Ready llmd/llama-3-1-8b-chat -n inference --timeout=5s
step kubectl get llmd,sp -n inference
step kubectl get pods -n inference -o wide

# The first 20 minutes of the conversation trace, at the cluster's speed.
step "$BIN" load --trace traces/azure-llm-inference-2023-conv.csv --service inference/llama-3-1-8b-chat \
  --speed "$SPEED" --time-scale "$SPEED" --duration 1200
step kubectl get llmd,sp -n inference
step kubectl get sp llama-3-1-8b-chat -n inference -o jsonpath='{range .status.history[*]}{.time}  {.fromReplicas} -> {.toReplicas}  {.reason}{"\n"}{end}'

# Canaries need traffic to judge: replay in the background while they run.
"$BIN" load --trace traces/azure-llm-inference-2023-conv.csv --service inference/llama-3-1-8b-chat \
  --speed "$SPEED" --time-scale "$SPEED" > "$DIR/load.log" 2>/dev/null &
LOAD=$!
canary() {
  cat <<YAML
apiVersion: llmops.io/v1alpha1
kind: CanaryRun
metadata: {name: $1, namespace: inference}
spec:
  targetRef: {name: llama-3-1-8b-chat}
  revision: $2
  steps:
    - {weight: 34, durationSeconds: 120, minSamples: 150}
    - {weight: 50, durationSeconds: 120, minSamples: 150}
  analysis: {intervalSeconds: 20, test: sequential, maxRegression: 0.1}
  approval: {required: $3}
YAML
}
phase() { [ "$(kubectl get canaryrun "$1" -n inference -o jsonpath='{.status.phase}')" = "$2" ]; }
canary rev-5f0b02c '{modelRevision: 5f0b02c75b57c5855da9ae460ce51323ea669d8a}' true > "$DIR/good.yaml"
step kubectl apply -f "$DIR/good.yaml"
wait_for approval phase rev-5f0b02c AwaitingApproval
step kubectl get canaryrun -n inference
step kubectl annotate canaryrun rev-5f0b02c -n inference llmops.io/approve=true
wait_for promoted phase rev-5f0b02c Promoted
step kubectl get canaryrun -n inference
kubectl rollout status deployment/llama-3-1-8b-chat-l40s -n inference --timeout=300s > /dev/null
step kubectl get llmd,deploy -n inference

canary vllm-0-9-0 '{image: "vllm/vllm-openai:v0.9.0"}' false > "$DIR/slow.yaml"
step kubectl apply -f "$DIR/slow.yaml"
canary_pods() { [ -n "$(kubectl get pods -n inference -l llmops.io/track=canary -o name 2>/dev/null)" ]; }
wait_for canary-pods canary_pods
# The new image is slower (a simulated 1.6x regression on the canary Pods).
for p in $(kubectl get pods -n inference -l llmops.io/track=canary -o name); do
  kubectl annotate -n inference "$p" sim.llmops.io/slowdown=1.6 > /dev/null
done
wait_for rollback phase vllm-0-9-0 RolledBack
kill $LOAD 2>/dev/null || true
step kubectl get llmd,sp,canary -n inference
step kubectl describe llmd llama-3-1-8b-chat -n inference
step kubectl get events -n inference --field-selector involvedObject.kind=CanaryRun

#!/usr/bin/env bash
# Starts Debian's Prometheus against `llmops up`: it scrapes every Pod annotated
# prometheus.io/scrape=true on its prometheus.io/port, with the usual namespace, pod and node
# target labels, so `llmops operator --prometheus-url` reads from it as from any cluster's
# Prometheus. Debian builds Prometheus without kubernetes_sd_configs, so discovery goes
# through file_sd_configs: a loop here lists the Pods with kubectl every 5 s and writes the
# target file Prometheus watches (the same relabelling kubernetes_sd_configs would do).
#
#   hack/prometheus.sh DATA_DIR [PORT]     # DATA_DIR: llmops up --data-dir; PORT default 9090
#
# Prints the URL; runs in the foreground until stopped (Ctrl-C). Needs `prometheus` on PATH
# (apt-get install prometheus). The API server's address is read from DATA_DIR/kubeconfig.
set -euo pipefail
data=${1:?usage: hack/prometheus.sh DATA_DIR [PORT]}
port=${2:-9090}
data=$(cd "$data" && pwd)
command -v prometheus >/dev/null || { echo "prometheus not found: apt-get install prometheus" >&2; exit 2; }
server=$(sed -n 's/^ *server: *//p' "$data/kubeconfig" | head -1)
[ -n "$server" ] || { echo "no server in $data/kubeconfig" >&2; exit 2; }
dir="$data/prometheus"
mkdir -p "$dir/tsdb"
cat > "$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: vllm-pods
    file_sd_configs:
      - files: [$dir/targets.json]
        refresh_interval: 5s
YAML
echo '[]' > "$dir/targets.json"
discover() {
  while true; do
    if kubectl --kubeconfig "$data/kubeconfig" get pods -A -o json > "$dir/pods.json" 2>/dev/null; then
      python3 - "$dir/pods.json" "$dir/targets.json" <<'PY'
import json, os, sys
pods = json.load(open(sys.argv[1]))["items"]
groups = []
for p in pods:
    a = p["metadata"].get("annotations") or {}
    ip = p.get("status", {}).get("podIP")
    if a.get("prometheus.io/scrape") != "true" or not ip or p.get("status", {}).get("phase") != "Running":
        continue
    labels = {"namespace": p["metadata"]["namespace"], "pod": p["metadata"]["name"], "node": p["spec"].get("nodeName", "")}
    if a.get("prometheus.io/path"):
        labels["__metrics_path__"] = a["prometheus.io/path"]
    groups.append({"targets": [f"{ip}:{a.get('prometheus.io/port', '8000')}"], "labels": labels})
tmp = sys.argv[2] + ".tmp"
json.dump(groups, open(tmp, "w"))
os.replace(tmp, sys.argv[2])
PY
    fi
    sleep 5
  done
}
discover &
trap 'kill $! 2>/dev/null' EXIT
echo "prometheus: http://127.0.0.1:$port (config $dir/prometheus.yml)"
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
  --web.listen-address="127.0.0.1:$port" --log.level=warn

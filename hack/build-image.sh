#!/usr/bin/env bash
# Builds the llmops image from the repository's Dockerfile with whichever engine is present
# (docker, podman or buildah), e.g.
#   hack/build-image.sh ghcr.io/ORG/llmops:0.1.0
# The image holds one binary built with --static-swift-stdlib on ubuntu:24.04, runs as UID
# 65532 and starts `llmops operator --leader-elect`; manifests/ and charts/ point at it.
# No engine runs on the development machines: Tests/python/test_packaging.py checks the
# Dockerfile statically (pinned bases, numeric non-root USER, nothing secret or built copied,
# the runtime packages cover what the binary links).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-llmops:dev}
for engine in docker podman buildah; do
  if command -v "$engine" >/dev/null; then
    [ "$engine" = buildah ] && exec buildah bud -t "$tag" .
    exec "$engine" build -t "$tag" .
  fi
done
echo "no container engine (docker, podman, buildah) found" >&2
exit 1

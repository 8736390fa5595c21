#!/usr/bin/env bash
# The project's test command (README, .ci/run): builds, checks that the committed CRDs match
# the API types, runs the Swift test suites, the Python checks of the generated CRDs, and the
# end-to-end suite against the embedded control plane.
set -euo pipefail
cd "$(dirname "$0")/.."

./hack/setup-venv.sh
./hack/get-helm.sh
swift build --build-tests
swift run --skip-build llmops crds --check

# The full per-test log goes to a file; failures and the closing summary are printed.
mkdir -p .build
set +e
swift test --skip-build > .build/swift-test.log 2>&1
status=$?
set -e
grep -E '✘|error:|Test run with|Executed [0-9]+ tests' .build/swift-test.log | tail -n 200
if [ "$status" -ne 0 ]; then
  echo "swift test failed (exit $status); full log: .build/swift-test.log"
  exit "$status"
fi

.venv/bin/python -m pytest -q Tests/python

# End-to-end: `llmops up` on a random port in a temp dir, driven by kubectl, the Python
# client, raw HTTPS and Helm; prints "N passed, M failed".
LLMOPS_BIN="$(swift build --show-bin-path)/llmops" .venv/bin/python -m pytest -q -p no:cacheprovider Tests/e2e

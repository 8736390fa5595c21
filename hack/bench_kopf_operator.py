"""The kopf side of hack/bench-runtime.sh: the same no-op handler over ScalingPolicies.

Prints `count N` each time another 1,000 events have been handled, as the Swift side does.
"""
import kopf

count = 0


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.posting.enabled = False  # the Swift side posts no events either
    settings.watching.client_timeout = 600


@kopf.on.event("llmops.io", "v1alpha1", "scalingpolicies")
def noop(**_):
    global count
    count += 1
    if count % 1000 == 0:
        print(f"count {count}", flush=True)

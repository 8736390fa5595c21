"""The official Python client (`kubernetes` from PyPI) against `llmops up`."""
import datetime
import threading
import time

import pytest
import yaml
from conftest import ROOT
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

GROUP, VERSION = "llmops.io", "v1alpha1"


@pytest.fixture()
def api(cp, crds):
    return config.new_client_from_config(config_file=cp.kubeconfig)


def llmd(name):
    """The sample LLMDeployment under another name, in the test namespace."""
    with open(ROOT / "manifests" / "samples" / "llmdeployment-llama-8b.yaml") as f:
        o = next(d for d in yaml.safe_load_all(f) if d)
    o["metadata"] = {"name": name, "labels": {"team": "py"}}
    return o


def test_typed_core_api(api):
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="prices", labels={"app": "llmops"}), data={"H100": "6.5"})
    created = core.create_namespaced_config_map("py", cm)
    assert created.metadata.uid and created.metadata.resource_version
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map("py", cm)
    assert exists.value.status == 409
    listed = core.list_namespaced_config_map("py", label_selector="app=llmops")
    assert [i.metadata.name for i in listed.items] == ["prices"]
    core.patch_namespaced_config_map("prices", "py", {"data": {"L4": "0.8"}})
    assert core.read_namespaced_config_map("prices", "py").data == {"H100": "6.5", "L4": "0.8"}
    # A stale resourceVersion on replace is a 409 Conflict.
    created.data = {"H100": "7"}
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("prices", "py", created)
    assert conflict.value.status == 409
    core.create_namespaced_secret("py", client.V1Secret(metadata=client.V1ObjectMeta(name="hf"), string_data={"token": "x"}, type="Opaque"))
    core.create_namespaced_service_account("py", client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="operator")))
    assert core.read_namespaced_service_account("operator", "py").metadata.name == "operator"
    core.delete_namespaced_config_map("prices", "py")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("prices", "py")
    assert gone.value.status == 404


def test_apps_and_coordination(api):
    apps = client.AppsV1Api(api)
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="vllm"),
        spec=client.V1DeploymentSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels={"app": "vllm"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "vllm"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="vllm", image="vllm/vllm-openai:v0.8.5")]))))
    apps.create_namespaced_deployment("py", dep)
    scale = apps.read_namespaced_deployment_scale("vllm", "py")
    assert scale.spec.replicas == 1 and scale.status.selector == "app=vllm"
    apps.patch_namespaced_deployment_scale("vllm", "py", {"spec": {"replicas": 3}})
    assert apps.read_namespaced_deployment("vllm", "py").spec.replicas == 3
    leases = client.CoordinationV1Api(api)
    lease = client.V1Lease(metadata=client.V1ObjectMeta(name="llmops-leader"),
                           spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15))
    leases.create_namespaced_lease("py", lease)
    assert leases.read_namespaced_lease("llmops-leader", "py").spec.holder_identity == "a"


def test_custom_objects_with_status_and_scale(api):
    co = client.CustomObjectsApi(api)
    created = co.create_namespaced_custom_object(GROUP, VERSION, "py", "llmdeployments", llmd("chat"))
    assert created["spec"]["engine"]["kind"] == "vllm"  # server-side default
    assert created["metadata"]["generation"] == 1
    co.patch_namespaced_custom_object_status(GROUP, VERSION, "py", "llmdeployments", "chat",
                                             {"status": {"replicas": 1, "readyReplicas": 1, "gpuType": "L4"}})
    status = co.get_namespaced_custom_object_status(GROUP, VERSION, "py", "llmdeployments", "chat")
    assert status["status"]["gpuType"] == "L4" and status["metadata"]["generation"] == 1
    co.patch_namespaced_custom_object_scale(GROUP, VERSION, "py", "llmdeployments", "chat", {"spec": {"replicas": 5}})
    scale = co.get_namespaced_custom_object_scale(GROUP, VERSION, "py", "llmdeployments", "chat")
    assert scale["spec"]["replicas"] == 5 and scale["status"]["replicas"] == 1
    listed = co.list_namespaced_custom_object(GROUP, VERSION, "py", "llmdeployments", label_selector="team=py")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["chat"]
    bad = llmd("bad")
    bad["spec"]["slo"]["attainment"] = 2.0
    with pytest.raises(ApiException) as invalid:
        co.create_namespaced_custom_object(GROUP, VERSION, "py", "llmdeployments", bad)
    assert invalid.value.status == 422 and "spec.slo.attainment" in invalid.value.body


def test_watch_stream_sees_every_change(api):
    co = client.CustomObjectsApi(api)
    start = co.list_namespaced_custom_object(GROUP, VERSION, "py", "llmdeployments")["metadata"]["resourceVersion"]
    seen = []

    def consume():
        w = watch.Watch()
        for event in w.stream(co.list_namespaced_custom_object, GROUP, VERSION, "py", "llmdeployments",
                              resource_version=start, timeout_seconds=10):
            seen.append((event["type"], event["object"]["metadata"]["name"]))
            if len(seen) == 3:
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.5)
    co.create_namespaced_custom_object(GROUP, VERSION, "py", "llmdeployments", llmd("watched"))
    co.patch_namespaced_custom_object(GROUP, VERSION, "py", "llmdeployments", "watched", {"spec": {"replicas": 3}})
    co.delete_namespaced_custom_object(GROUP, VERSION, "py", "llmdeployments", "watched")
    t.join(timeout=15)
    assert seen == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]


def test_core_watch_and_paging(api):
    core = client.CoreV1Api(api)
    for i in range(5):
        core.create_namespaced_config_map("py", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"page-{i}")))
    names, token = [], None
    while True:
        page = core.list_namespaced_config_map("py", limit=2, _continue=token)
        names += [i.metadata.name for i in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert [n for n in names if n.startswith("page-")] == [f"page-{i}" for i in range(5)]
    rv = page.metadata.resource_version
    core.delete_namespaced_config_map("page-0", "py")
    events = []
    for e in watch.Watch().stream(core.list_namespaced_config_map, "py", resource_version=rv, timeout_seconds=2):
        events.append((e["type"], e["object"].metadata.name))
        break
    assert events == [("DELETED", "page-0")]


def test_watch_without_a_resource_version_starts_with_the_current_objects(api):
    """As kube-apiserver: a watch with no resourceVersion first sends every existing object as
    ADDED (the Python client's Watch does this when not given one), then the changes."""
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py-initial")))
    for i in range(3):
        core.create_namespaced_config_map("py-initial", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"pre-{i}")))
    seen = []
    w = watch.Watch()
    for e in w.stream(core.list_namespaced_config_map, "py-initial", timeout_seconds=5):
        seen.append((e["type"], e["object"].metadata.name))
        if len(seen) == 3:
            core.create_namespaced_config_map("py-initial", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="later")))
        if len(seen) == 4:
            w.stop()
    assert sorted(seen[:3]) == [("ADDED", f"pre-{i}") for i in range(3)]
    assert seen[3] == ("ADDED", "later")


def test_events_are_one_resource_in_two_apis(api, cp):
    """core/v1 and events.k8s.io/v1 Events share storage, each API in its own field names."""
    core, events = client.CoreV1Api(api), client.EventsV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="ev")))
    cm = core.create_namespaced_config_map("ev", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="target")))
    ref = client.V1ObjectReference(kind="ConfigMap", namespace="ev", name="target", uid=cm.metadata.uid, api_version="v1")
    w = watch.Watch()
    seen = []

    def follow():
        for e in w.stream(events.list_namespaced_event, "ev", timeout_seconds=10):
            seen.append((e["type"], e["object"].note))
            if len(seen) == 2:
                w.stop()

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.5)
    core.create_namespaced_event("ev", client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="from-core"), involved_object=ref, reason="Scaled", message="core says hi",
        type="Normal", count=3, source=client.V1EventSource(component="llmops"),
        # events.k8s.io requires eventTime, and this client refuses events without one.
        event_time=datetime.datetime.now(datetime.timezone.utc)))
    events.create_namespaced_event("ev", client.EventsV1Event(
        metadata=client.V1ObjectMeta(name="from-events"), regarding=ref, reason="Promoted", note="events says hi",
        type="Normal", action="Promote", reporting_controller="llmops.io/canary", reporting_instance="llmops-0",
        event_time=datetime.datetime.now(datetime.timezone.utc)))
    t.join(timeout=15)

    as_events = events.read_namespaced_event("from-core", "ev")
    assert as_events.note == "core says hi" and as_events.regarding.name == "target" and as_events.deprecated_count == 3
    assert as_events.deprecated_source.component == "llmops"
    as_core = core.read_namespaced_event("from-events", "ev")
    assert as_core.message == "events says hi" and as_core.involved_object.uid == cm.metadata.uid
    assert as_core.reporting_component == "llmops.io/canary" and as_core.action == "Promote"
    assert sorted(e.metadata.name for e in core.list_namespaced_event("ev").items) == ["from-core", "from-events"]
    assert seen == [("ADDED", "core says hi"), ("ADDED", "events says hi")]
    # kubectl describe (core Events by involvedObject) shows the one written through events.k8s.io.
    described = cp.kubectl("describe", "configmap", "target", "-n", "ev").stdout
    assert "events says hi" in described and "core says hi" in described
    # Field selectors in each API's own names (Kubernetes' events.k8s.io/v1 label table); the
    # other API's spelling is refused rather than silently matching nothing.
    def names(listing):
        return sorted(e.metadata.name for e in listing.items)
    assert names(events.list_namespaced_event("ev", field_selector="regarding.name=target")) == ["from-core", "from-events"]
    assert names(events.list_namespaced_event("ev", field_selector="reportingController=llmops.io/canary,regarding.kind=ConfigMap")) == ["from-events"]
    assert names(events.list_namespaced_event("ev", field_selector="regarding.uid!=" + cm.metadata.uid)) == []
    assert names(core.list_namespaced_event("ev", field_selector="involvedObject.name=target,reason=Scaled")) == ["from-core"]
    for api_list, label in ((events.list_namespaced_event, "involvedObject.name"), (core.list_namespaced_event, "regarding.name")):
        try:
            api_list("ev", field_selector=label + "=target")
            raise AssertionError(f"{label} was accepted")
        except client.ApiException as e:
            assert e.status == 400 and f"field label not supported: {label}" in e.body
    got = cp.kubectl("get", "events.v1.events.k8s.io", "-n", "ev", "--field-selector", "regarding.name=target", "-o", "name").stdout.split()
    assert sorted(got) == ["event.events.k8s.io/from-core", "event.events.k8s.io/from-events"]
    events.delete_namespaced_event("from-core", "ev")
    assert [e.metadata.name for e in core.list_namespaced_event("ev").items] == ["from-events"]


def test_later_pages_show_the_first_pages_revision(api):
    """continue pages are one snapshot, whatever changes between the requests."""
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="pages")))
    for i in range(6):
        core.create_namespaced_config_map("pages", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"c{i}"), data={"v": "old"}))
    first = core.list_namespaced_config_map("pages", limit=2)
    assert [c.metadata.name for c in first.items] == ["c0", "c1"] and first.metadata.remaining_item_count == 4
    core.patch_namespaced_config_map("c3", "pages", {"data": {"v": "new"}})
    core.delete_namespaced_config_map("c4", "pages")
    core.create_namespaced_config_map("pages", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c2a"), data={"v": "new"}))
    rest, token = [], first.metadata._continue
    while token:
        page = core.list_namespaced_config_map("pages", limit=2, _continue=token)
        assert page.metadata.resource_version == first.metadata.resource_version
        rest += [(c.metadata.name, c.data["v"]) for c in page.items]
        token = page.metadata._continue
    assert rest == [("c2", "old"), ("c3", "old"), ("c4", "old"), ("c5", "old")]
    # A fresh list sees the changes.
    now = core.list_namespaced_config_map("pages")
    assert [(c.metadata.name, c.data["v"]) for c in now.items] == [("c0", "old"), ("c1", "old"), ("c2", "old"), ("c2a", "new"), ("c3", "new"), ("c5", "old")]


def test_service_account_token_and_rbac(api, cp):
    """A ServiceAccount's token from the TokenRequest API, used by the Python client: what
    its RoleBinding grants works, the rest is a 403 Status naming the user and the verb, and
    SelfSubjectAccessReview agrees."""
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py-rbac")))
    core.create_namespaced_service_account("py-rbac", client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="bot")))
    rbac.create_namespaced_role("py-rbac", client.V1Role(
        metadata=client.V1ObjectMeta(name="cm-reader"),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get", "list"])]))
    rbac.create_namespaced_role_binding("py-rbac", client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="bot"),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="cm-reader"),
        subjects=[client.RbacV1Subject(kind="ServiceAccount", name="bot", namespace="py-rbac")]))
    answer = core.create_namespaced_service_account_token("bot", "py-rbac", client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=900)))
    assert answer.status.token and answer.status.expiration_timestamp

    conf = client.Configuration()
    conf.host = cp.url
    conf.ssl_ca_cert = cp.ca
    conf.api_key = {"authorization": "Bearer " + answer.status.token}
    bot = client.ApiClient(conf)
    assert client.CoreV1Api(bot).list_namespaced_config_map("py-rbac").items == []
    with pytest.raises(ApiException) as denied:
        client.CoreV1Api(bot).create_namespaced_config_map("py-rbac", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
    assert denied.value.status == 403 and denied.value.reason == "Forbidden"
    assert ('User \\"system:serviceaccount:py-rbac:bot\\" cannot create resource \\"configmaps\\" in API group \\"\\" '
            'in the namespace \\"py-rbac\\"') in denied.value.body
    review = client.AuthorizationV1Api(bot).create_self_subject_access_review(client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
            namespace="py-rbac", verb="list", resource="configmaps"))))
    assert review.status.allowed is True
    core.delete_namespace("py-rbac")

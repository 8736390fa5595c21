"""Independent checks of the generated CRDs, written apart from the Swift generator:

* kubernetes-validate (the Kubernetes OpenAPI schema for apiextensions.k8s.io/v1, strict);
* the structural-schema rules from the Kubernetes CRD documentation;
* every default validates against the schema it sits in;
* the samples validate against the CRD schemas with a stock JSON Schema validator;
* printer-column JSONPaths point at fields the schema declares.
"""
import copy
import glob
import os

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRD_FILES = sorted(glob.glob(os.path.join(ROOT, "crds", "*.yaml")))
SAMPLE_FILES = sorted(glob.glob(os.path.join(ROOT, "manifests", "samples", "*.yaml")))


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def crds():
    return [doc for path in CRD_FILES for doc in load_all(path)]


def schema_of(crd):
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def walk(schema, path="", in_junctor=False):
    """Yields (path, node, in_junctor) for every schema node."""
    yield path, schema, in_junctor
    for name, sub in (schema.get("properties") or {}).items():
        yield from walk(sub, f"{path}.{name}", in_junctor)
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]", in_junctor)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}{{}}", in_junctor)
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(junctor) or []):
            yield from walk(sub, f"{path}/{junctor}[{i}]", True)
    if isinstance(schema.get("not"), dict):
        yield from walk(schema["not"], f"{path}/not", True)


def test_there_is_one_crd_per_resource():
    kinds = sorted(c["spec"]["names"]["kind"] for c in crds())
    assert kinds == ["CanaryRun", "LLMDeployment", "ScalingPolicy"]


@pytest.mark.parametrize("path", CRD_FILES, ids=os.path.basename)
def test_kubernetes_validate_strict(path):
    for doc in load_all(path):
        kubernetes_validate.validate(doc, "1.32", strict=True)


@pytest.mark.parametrize("crd", crds(), ids=lambda c: c["metadata"]["name"])
def test_structural_schema_rules(crd):
    problems = []
    for path, node, in_junctor in walk(schema_of(crd)):
        int_or_string = node.get("x-kubernetes-int-or-string") is True
        preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
        if not in_junctor and not node.get("type") and not (int_or_string or preserve):
            problems.append(f"{path}: a non-empty type is required")
        if in_junctor:
            for forbidden in ("description", "default", "additionalProperties", "nullable"):
                if forbidden in node:
                    problems.append(f"{path}: {forbidden} is not allowed inside a logical junctor")
        if "properties" in node and "additionalProperties" in node:
            problems.append(f"{path}: properties and additionalProperties are mutually exclusive")
        if node.get("x-kubernetes-list-type") == "map":
            keys = node.get("x-kubernetes-list-map-keys") or []
            item = node.get("items", {})
            if not keys:
                problems.append(f"{path}: list-type map needs list-map-keys")
            for k in keys:
                if k not in (item.get("required") or []) and "default" not in item.get("properties", {}).get(k, {}):
                    problems.append(f"{path}: map key {k} must be required or defaulted")
        for name in node.get("required") or []:
            if name not in (node.get("properties") or {}):
                problems.append(f"{path}: required field {name} is not a property")
        if "anyOf" in node and int_or_string:
            assert node["anyOf"] == [{"type": "integer"}, {"type": "string"}], path
        if path == ".metadata":
            allowed = {"type", "description"}
            if set(node) - allowed:
                problems.append(".metadata: only name/generateName restrictions are allowed")
    assert problems == []


def to_json_schema(node, strict=True):
    """OpenAPI v3 (Kubernetes flavour) to JSON Schema draft 7, dropping extensions."""
    node = copy.deepcopy(node)
    out = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in ("description", "default", "format", "nullable"):
            continue
        if key == "properties":
            out["properties"] = {k: to_json_schema(v, strict) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = to_json_schema(value, strict)
        elif key == "anyOf":
            out["anyOf"] = [to_json_schema(v, strict) for v in value]
        elif key == "exclusiveMinimum" and value is True:
            out["exclusiveMinimum"] = node["minimum"]
            out.pop("minimum", None)
        elif key == "exclusiveMaximum" and value is True:
            out["exclusiveMaximum"] = node["maximum"]
            out.pop("maximum", None)
        elif key in ("minimum", "maximum") and node.get("exclusive" + key.capitalize()) is True:
            continue
        else:
            out[key] = value
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if strict and node.get("type") == "object" and "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


@pytest.mark.parametrize("crd", crds(), ids=lambda c: c["metadata"]["name"])
def test_defaults_validate_against_their_schema(crd):
    checked = 0
    for path, node, _ in walk(schema_of(crd)):
        if "default" in node:
            jsonschema.validate(node["default"], to_json_schema(node))
            checked += 1
    assert checked > 0


def resource_schema(kind):
    crd = next(c for c in crds() if c["spec"]["names"]["kind"] == kind)
    schema = to_json_schema(schema_of(crd))
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=os.path.basename)
def test_samples_validate_with_stock_jsonschema(path):
    for doc in load_all(path):
        jsonschema.validate(doc, resource_schema(doc["kind"]))


def test_stock_validator_rejects_a_broken_sample():
    doc = load_all(os.path.join(ROOT, "manifests", "samples", "llmdeployment-llama-8b.yaml"))[0]
    doc["spec"]["slo"]["itlP95Ms"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, resource_schema("LLMDeployment"))
    doc = load_all(os.path.join(ROOT, "manifests", "samples", "llmdeployment-llama-8b.yaml"))[0]
    doc["spec"]["gpu"]["typo"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, resource_schema("LLMDeployment"))


@pytest.mark.parametrize("crd", crds(), ids=lambda c: c["metadata"]["name"])
def test_printer_columns_and_scale_paths_exist(crd):
    version = crd["spec"]["versions"][0]
    schema = schema_of(crd)

    def resolve(json_path):
        node = schema
        for part in json_path.lstrip(".").split("."):
            if part == "creationTimestamp" and node is schema["properties"]["metadata"]:
                return True
            node = (node.get("properties") or {}).get(part)
            if node is None:
                return False
        return True

    for column in version.get("additionalPrinterColumns", []):
        assert resolve(column["jsonPath"]), column
        assert column["type"] in ("integer", "number", "string", "boolean", "date")
    scale = version.get("subresources", {}).get("scale")
    if scale:
        for key in ("specReplicasPath", "statusReplicasPath", "labelSelectorPath"):
            assert resolve(scale[key]), scale[key]
    assert "status" in version.get("subresources", {})

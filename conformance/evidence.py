"""The class of evidence each generated check rests on, read from the spec's marks (`openapi_model.evidence`).

A fuzzed check's failure is classed by the part of the spec it holds the target to: the response
declared for the status, the schema nodes a body breaks, the request schema a refused body fits,
the security scheme. General HTTP semantics (405 with `Allow`) are HTTP hygiene.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

from conformance.apis import Api, Operation
from openapi_model.evidence import (
    DOCUMENTED,
    RFC_9110,
    Basis,
    Evidence,
    node_basis,
    path_basis,
    response_basis,
    statuses_basis,
    weakest,
)

OPTIONAL_NULL = Basis(
    Evidence.INFERRED,
    "the documents list the member as optional; whether an optional member reads back as null or absent is "
    "our inference (Jackson, Json.NET and DRF write an unset member as null)",
)
HTTP_HYGIENE_CHECKS = frozenset({"unsupported_method", "allow_header_conformance"})
AUTH_CHECKS = frozenset({"missing_required_header", "ignored_auth"})


def operation_by_label(api: Api, label: str) -> Operation | None:
    return next((operation for operation in api.operations() if operation.label == label), None)


def fuzz_basis(
    api: Api,
    check: str,
    operation: Operation | None,
    *,
    status: int | None = None,
    request_body: bytes | None = None,
    request_media_type: str = "",
    response_body: bytes | None = None,
    response_media_type: str = "",
    query: Mapping[str, str] | None = None,
) -> Basis:
    """What one failed generated check rests on."""
    if check in HTTP_HYGIENE_CHECKS:
        return RFC_9110
    if operation is None:
        return DOCUMENTED
    definition = operation.definition
    if check == "status_code_conformance" and status is not None:
        return statuses_basis(definition, status)
    if check in ("content_type_conformance", "response_headers_conformance") and status is not None:
        return response_basis(definition, status)
    if check == "response_schema_conformance" and status is not None:
        return _response_schema_basis(operation, status, response_body, response_media_type)
    if check == "negative_data_rejection":
        if not request_body and query is not None:
            return _broken_parameters_basis(operation, query)
        return _broken_request_basis(operation, request_body, request_media_type)
    if check == "positive_data_acceptance":
        schema = operation.request_schema(request_media_type) if request_media_type else {}
        fitted = [node_basis(definition), node_basis(schema)]
        return weakest([*fitted, statuses_basis(definition, status)] if status is not None else fitted)
    if check in AUTH_CHECKS:
        schemes = api.model.security_schemes.values()
        headers = [p for p in operation.parameters if p.get("in") == "header"]
        return weakest([node_basis(definition), *map(node_basis, schemes), *map(node_basis, headers)])
    return weakest([node_basis(definition)])


def _response_schema_basis(operation: Operation, status: int, body: bytes | None, media_type: str) -> Basis:
    declared = response_basis(operation.definition, status)
    if not declared.documented:
        return declared
    schema = _response_schema(operation, status, media_type)
    document = _json(body)
    if schema is None or document is _NOT_JSON:
        return declared
    errors = list(OAS30ReadValidator(schema).iter_errors(document))
    return _errors_basis(schema, errors) or declared


def _broken_request_basis(operation: Operation, body: bytes | None, media_type: str) -> Basis:
    """The weakest of the rules the request broke, only documented if one of them is."""
    schema = operation.request_schema(media_type) if media_type else None
    document = _json(body)
    if not schema or document is _NOT_JSON:  # a form, or no body: the request schema's own mark
        return weakest([node_basis(operation.definition), node_basis(schema)])
    errors = list(OAS30WriteValidator(schema).iter_errors(document))
    return _errors_basis(schema, errors) or weakest([node_basis(operation.definition)])


def _broken_parameters_basis(operation: Operation, query: Mapping[str, str]) -> Basis:
    """A request without a body broke a parameter's schema: the weakest basis among the parameters it sent
    (which one is broken the engine does not say; a false alarm is worse than a missed one)."""
    sent = [p for p in operation.parameters if p.get("in") == "query" and p.get("name") in query]
    return weakest([node_basis(operation.definition), *(node_basis(p) for p in sent)])


def _errors_basis(schema: Mapping[str, Any], errors: Iterable[ValidationError]) -> Basis | None:
    """Documented when one error breaks a documented rule; else the first inferred basis; None for no errors."""
    bases = [_failure_basis(schema, error) for error in errors]
    return _strongest(bases) if bases else None


def _strongest(bases: list[Basis]) -> Basis:
    """Of failures each enough to refuse: documented if one is, else the first inferred one."""
    documented = [basis for basis in bases if basis.documented]
    return documented[0] if documented else next((b for b in bases if b.evidence == Evidence.INFERRED), bases[0])


def _failure_basis(schema: Mapping[str, Any], error: ValidationError) -> Basis:
    """What one error rests on. An `anyOf` or `oneOf` that no branch fits refuses only as surely as every branch
    fails (each branch as surely as its surest error), whatever order the spec lists them in."""
    if not error.context:
        return _error_basis(schema, error)
    failures: dict[Any, list[Basis]] = {}
    for sub in error.context:
        failures.setdefault(sub.relative_schema_path[0], []).append(_branch_failure_basis(schema, sub))
    return weakest(_strongest(bases) for bases in failures.values())


def _branch_failure_basis(schema: Mapping[str, Any], error: ValidationError) -> Basis:
    """How surely one branch refuses. A branch marked inferred says values of its type are likely accepted:
    how far that goes (its pattern, lengths, format) is the inference, while a value of another type is
    outside it, so the branch's own `type` refuses such a value as surely as the nodes above the branch do."""
    if error.validator == "type" and len(error.relative_schema_path) == 2:  # [branch, "type"]
        path = list(error.absolute_schema_path)  # …, <member>, "anyOf", branch, "type"
        if error.instance is None and _optional_member(schema, path[:-3]):
            return OPTIONAL_NULL
        return path_basis(schema, path[:-2])
    return _failure_basis(schema, error)


def _error_basis(schema: Mapping[str, Any], leaf: ValidationError) -> Basis:
    path = list(leaf.absolute_schema_path)
    if leaf.validator == "type" and _optional_member(schema, path[:-1]) and leaf.instance is None:
        return OPTIONAL_NULL
    return path_basis(schema, path[:-1], str(leaf.validator))


def _optional_member(schema: Mapping[str, Any], path: list[Any]) -> bool:
    """Whether the schema node at `path` is a member (`…/properties/<name>`) its object does not require."""
    if len(path) < 2 or path[-2] != "properties":
        return False
    parent = _node(schema, path[:-2])
    return isinstance(parent, Mapping) and path[-1] not in parent.get("required", [])


def _node(root: Any, path: list[Any]) -> Any:
    node = root
    for part in path:
        node = node[part] if isinstance(node, Mapping | list) else None
    return node


def _response_schema(operation: Operation, status: int, media_type: str) -> Mapping[str, Any] | None:
    responses: Mapping[str, Any] = operation.definition.get("responses", {})
    response = responses.get(str(status)) or responses.get("default")
    if response is None:
        return None
    content: Mapping[str, Any] = response.get("content", {})
    media = content.get(media_type) or next(iter(content.values()), None)
    schema = media.get("schema") if isinstance(media, Mapping) else None
    return schema if isinstance(schema, Mapping) else None


_NOT_JSON = object()


def _json(body: bytes | None) -> Any:
    if not body:
        return _NOT_JSON
    try:
        return json.loads(body)
    except ValueError:
        return _NOT_JSON


def error_basis(schema: Mapping[str, Any], error: ValidationError) -> Basis:
    """What one validation error of `schema` breaks: the keywords at its innermost failures, through every node
    above (`_failure_basis`)."""
    return _failure_basis(schema, error)


def member_basis(schema: Any, pointer: str, keyword: str | None = None, json_type: str | None = None) -> Basis:
    """The basis of the member a JSON pointer names in a document `schema` describes, through every node on the way
    (an inferred object makes each of its members inferred); where the schema stops, its last node's. With
    `keyword`, the basis of that one keyword of the member (`maxLength`), on the member or any schema it is
    built from (`allOf`, `anyOf`, `oneOf` parts) that constrain it: with `json_type`, only the parts of that type
    (the alternative a value of that type is judged by).

    The one reading of a member's class: the verdicts, the boundary cases and the rule matrix all ask it."""
    chain = [node_basis(schema)]
    node = schema
    for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]:
        found = _member_schema(node, part)
        if found is None:
            break
        node = found
        chain.append(node_basis(node))
    if keyword is not None and isinstance(node, Mapping):
        chain += [node_basis(part, keyword) for part in _parts(node) if _bears_on(part, keyword, json_type)]
    return weakest(chain)


def _parts(node: Mapping[str, Any]) -> list[Any]:
    return [node, *node.get("allOf", []), *node.get("anyOf", []), *node.get("oneOf", [])]


# The JSON types a keyword constrains: an alternative of another type (the decimal string beside a number,
# Revnue's amounts) does not bear on it.
_NUMERIC = frozenset({"number", "integer"})
_TEXT = frozenset({"string"})
_KEYWORD_TYPES = {
    **dict.fromkeys(("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"), _NUMERIC),
    **dict.fromkeys(("maxLength", "minLength", "pattern", "format"), _TEXT),
}


def _bears_on(part: Any, keyword: str, json_type: str | None = None) -> bool:
    declared = part.get("type") if isinstance(part, Mapping) else None
    if declared is None:
        return True
    if json_type is not None and declared != json_type and {declared, json_type} != {"number", "integer"}:
        return False
    return keyword not in _KEYWORD_TYPES or declared in _KEYWORD_TYPES[keyword]


def _member_schema(node: Any, part: str) -> Any:
    if not isinstance(node, Mapping):
        return None
    for candidate in _parts(node):
        if not isinstance(candidate, Mapping):
            continue
        properties = candidate.get("properties", {})
        if part in properties:
            return properties[part]
        if part.isdigit() and isinstance(candidate.get("items"), Mapping):
            return candidate["items"]
    return None

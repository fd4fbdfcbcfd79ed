"""One OpenAPI document, read once: its operations, schemas with every `$ref` resolved, security, examples.

`$ref`s are resolved with `referencing` (the library jsonschema resolves with); each referenced node
becomes one shared object, so a schema reached by two references is the same dict (callers may key
caches on it). Path templates become regexes here, once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

import yaml
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT4

# libyaml's loader where PyYAML was built with it: parsing is most of the time it takes to load a spec
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(source: str | IO[str]) -> Any:
    """A YAML document (text or an open file) as plain data: the kit's one YAML loader (safe, libyaml when built)."""
    return yaml.load(source, Loader=YAML_LOADER)


def load_yaml_file(path: Path, cache_dir: Path | None = None) -> Any:
    """A YAML file as plain data. With `cache_dir`, parsed once per content (`kept`): a changed file is
    parsed again (never stale); data `marshal` cannot hold (a YAML date…) is parsed each time."""
    content = path.read_bytes()
    return kept(cache_dir, "yaml", _parser_key(content), lambda: load_yaml(content.decode("utf-8")))


_PARSED_FORMAT = "parsed-yaml 1"  # bump when what `load_yaml_file` keeps changes meaning
_RESOLVED_FORMAT = "resolved-spec 1"  # bump when what `ApiSpec.load` keeps changes meaning


def kept(cache_dir: Path | None, kind: str, key: bytes, compute: Callable[[], Any]) -> Any:
    """`compute()`, computed once per `key` when there is a `cache_dir`: kept there in `marshal`'s format
    (plain data only; keeps integer keys, and an object reached twice is one object again), in a file
    named by the SHA-256 of `key`, which must hold everything the value depends on (the content, the
    code and library versions that computed it), so that it is never stale. Written to a temporary name,
    then renamed: concurrent workers never read half a file. A value `marshal` cannot hold and a cache that
    cannot be read or written just mean computing it; an exception of `compute` keeps nothing."""
    if cache_dir is None:
        return compute()
    entry = cache_dir / kind / hashlib.sha256(key).hexdigest()
    with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
        return marshal.loads(entry.read_bytes())
    value = compute()
    with contextlib.suppress(OSError, ValueError):
        data = marshal.dumps(value)
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_name(f"{entry.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(data)
        os.replace(partial, entry)
    return value


def _parser_key(content: bytes) -> bytes:
    parser = f"{_PARSED_FORMAT} {yaml.__version__} {YAML_LOADER.__name__} {sys.version} {marshal.version}"
    return parser.encode() + b"\n" + content


def _resolved_key(content: bytes) -> bytes:
    return _resolver_identity() + b"\n" + _parser_key(content)


@functools.cache
def _resolver_identity() -> bytes:
    """What resolving depends on besides the document: this module's resolver (its compiled code, nested
    functions included) and the `referencing` library it looks references up with."""
    from importlib.metadata import version

    code = hashlib.sha256(marshal.dumps(_resolve_references.__code__)).hexdigest()
    return f"{_RESOLVED_FORMAT} referencing {version('referencing')} {code}".encode()


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DEFAULT_AUTH_PREFIX = "Bearer"
_DOCUMENT_URI = "urn:openapi-model:document"
_TEMPLATE_PARAMETER = re.compile(r"\{([^}/]+)\}")


class SpecError(Exception):
    """A spec that cannot be used: missing, unreadable, or with a reference that leads nowhere."""


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # the template, as in the spec: /api/v2/contract/{id}
    definition: Mapping[str, Any] = field(repr=False)  # resolved
    parameters: tuple[Mapping[str, Any], ...] = field(repr=False)  # the path item's and the operation's, resolved
    regex: re.Pattern[str] = field(repr=False, compare=False)  # matches a concrete path; groups = path parameters

    @property
    def operation_id(self) -> str:
        return str(self.definition.get("operationId", ""))

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> list[str]:
        return _TEMPLATE_PARAMETER.findall(self.path)

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path.split("?", 1)[0]) is not None

    def path_arguments(self, path: str) -> dict[str, str] | None:
        """The path parameters' values in `path` (still percent-encoded), or None when it does not match."""
        found = self.regex.fullmatch(path)
        return found.groupdict() if found else None

    @property
    def request_body(self) -> Mapping[str, Any]:
        body: Mapping[str, Any] = self.definition.get("requestBody", {})
        return body

    def request_media_types(self) -> list[str]:
        return list(self.request_body.get("content", {}))

    def request_schema(self, media_type: str) -> Mapping[str, Any]:
        schema: Mapping[str, Any] = self.request_body.get("content", {}).get(media_type, {}).get("schema", {})
        return schema


def template_regex(template: str) -> re.Pattern[str]:
    """A regex matching the concrete paths of a template, with one named group per parameter."""
    pattern, position = "", 0
    for found in _TEMPLATE_PARAMETER.finditer(template):
        group = re.sub(r"\W", "_", found[1])
        pattern += re.escape(template[position : found.start()]) + f"(?P<{group}>[^/]+)"
        position = found.end()
    return re.compile(pattern + re.escape(template[position:]))


class ApiSpec:
    """An OpenAPI 3.0 document: `raw` as written, `resolved` with every `$ref` replaced by its target."""

    def __init__(self, raw: Mapping[str, Any], *, source: str = "<spec>") -> None:
        document = dict(raw)
        self._take(document, _resolve_references(document, source), source)

    def _take(self, raw: dict[str, Any], resolved: dict[str, Any], source: str) -> None:
        self.source = source
        self.raw: dict[str, Any] = raw
        self.resolved: dict[str, Any] = resolved
        self.operations: tuple[Operation, ...] = tuple(self._operations())

    @classmethod
    def load(cls, path: Path, *, cache_dir: Path | None = None) -> Self:
        """The spec at `path`; with `cache_dir`, parsed and resolved once per content (`kept`)."""
        try:
            content = path.read_bytes()
        except FileNotFoundError as exc:
            raise SpecError(f"{path}: no such spec") from exc
        except OSError as exc:
            raise SpecError(f"{path}: unreadable: {exc}") from exc

        def parsed_and_resolved() -> tuple[dict[str, Any], dict[str, Any]]:
            try:
                document = load_yaml(content.decode("utf-8"))
            except (UnicodeDecodeError, yaml.YAMLError) as exc:
                raise SpecError(f"{path}: unreadable: {exc}") from exc
            if not isinstance(document, dict):
                raise SpecError(f"{path}: not an OpenAPI document (a mapping)")
            return document, _resolve_references(document, str(path))

        raw, resolved = kept(cache_dir, "spec", _resolved_key(content), parsed_and_resolved)
        spec = cls.__new__(cls)
        spec._take(raw, resolved, str(path))
        return spec

    # --- operations ---------------------------------------------------------------------------------

    def _operations(self) -> Iterator[Operation]:
        for path, item in self.resolved.get("paths", {}).items():
            regex = template_regex(path)
            for method in HTTP_METHODS:
                if method in item:
                    definition = item[method]
                    yield Operation(method.upper(), path, definition, _parameters(item, definition), regex)

    def operation_for(self, method: str, path: str) -> Operation | None:
        """The operation serving `method` on a concrete path (relative to the API's base path)."""
        return next((op for op in self.operations if op.method == method.upper() and op.matches(path)), None)

    def methods_for(self, path: str) -> list[str]:
        """The methods the spec declares on the template (or concrete path) `path`."""
        return [op.method for op in self.operations if op.path == path or op.matches(path)]

    def operation_by_id(self, operation_id: str) -> Operation | None:
        return next((op for op in self.operations if op.operation_id == operation_id), None)

    # --- security -----------------------------------------------------------------------------------

    @property
    def security_schemes(self) -> dict[str, Any]:
        return dict(self.resolved.get("components", {}).get("securitySchemes", {}))

    @property
    def auth_prefix(self) -> str:
        """The word before the token in `Authorization`: `x-auth-prefix` on a security scheme, else Bearer."""
        for scheme in self.security_schemes.values():
            if "x-auth-prefix" in scheme:
                return str(scheme["x-auth-prefix"])
        return DEFAULT_AUTH_PREFIX

    @functools.cached_property
    def org_header(self) -> str | None:
        """A required header every operation takes besides credentials (Zoho's `orgId`), if there is one."""
        common: set[str] | None = None
        for operation in self.operations:
            names = {p["name"] for p in operation.parameters if p.get("in") == "header" and p.get("required")}
            common = names if common is None else common & names
        candidates = sorted((common or set()) - {"Authorization"})
        return candidates[0] if len(candidates) == 1 else None

    def org_header_example(self) -> str | None:
        for operation in self.operations:
            for parameter in operation.parameters:
                if parameter.get("name") == self.org_header and "example" in parameter:
                    return str(parameter["example"])
        return None

    # --- schemas ------------------------------------------------------------------------------------

    def schema(self, name: str) -> dict[str, Any]:
        """A component schema, with every `$ref` resolved."""
        try:
            schema: dict[str, Any] = self.resolved["components"]["schemas"][name]
        except KeyError as exc:
            raise KeyError(f"no schema {name!r} in components.schemas") from exc
        return schema

    def property(self, schema_name: str, dotted: str) -> dict[str, Any]:
        """The schema of a (possibly nested, dotted) property of a component schema."""
        node = self.schema(schema_name)
        for part in dotted.split("."):
            node = properties(node)[part]
        return node

    def max_length(self, schema_name: str, dotted: str) -> int | None:
        value = self.property(schema_name, dotted).get("maxLength")
        return None if value is None else int(value)

    def enum(self, schema_name: str, dotted: str) -> list[Any]:
        return list(self.property(schema_name, dotted).get("enum", []))

    def required(self, schema_name: str) -> list[str]:
        return list(merged(self.schema(schema_name)).get("required", []))

    def property_names(self, schema_name: str) -> list[str]:
        return list(properties(self.schema(schema_name)))


def _parameters(item: Mapping[str, Any], definition: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    """The path item's parameters, then the operation's, which override those of the same name and place."""
    own = list(definition.get("parameters", []))
    overridden = {(p.get("name"), p.get("in")) for p in own}
    shared = [p for p in item.get("parameters", []) if (p.get("name"), p.get("in")) not in overridden]
    return (*shared, *own)


def merged(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A schema with its `allOf` parts folded in (properties and required lists combined)."""
    if "allOf" not in schema:
        return dict(schema)
    result: dict[str, Any] = {"properties": {}, "required": []}
    own = {key: value for key, value in schema.items() if key != "allOf"}
    for part in [own, *schema["allOf"]]:
        part = merged(part)
        result["properties"].update(part.get("properties", {}))
        result["required"].extend(part.get("required", []))
    return result


def properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of an object schema, through `allOf`."""
    return dict(merged(schema).get("properties", {}))


def examples(node: Any, where: str = "") -> Iterator[tuple[str, Mapping[str, Any], Any]]:
    """(location, schema, example) for every `example`/`examples` value under a resolved node."""
    if isinstance(node, Mapping):
        schema = node.get("schema")
        if isinstance(schema, Mapping):
            if "example" in node:
                yield where, schema, node["example"]
            for name, example in (node.get("examples") or {}).items():
                if isinstance(example, Mapping) and "value" in example:
                    yield f"{where}/examples/{name}", schema, example["value"]
        if "example" in node and node.get("type") and "schema" not in node:
            yield where, node, node["example"]
        for key, child in node.items():
            yield from examples(child, f"{where}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from examples(child, f"{where}/{index}")


def _resolve_references(document: dict[str, Any], source: str) -> dict[str, Any]:
    resource = Resource.from_contents(document, default_specification=DRAFT4)
    resolver = Registry().with_resource(_DOCUMENT_URI, resource).resolver(_DOCUMENT_URI)
    # original node id -> its resolved copy: a node reached twice (by reference or in place) is copied once
    copies: dict[int, Any] = {}
    in_progress: set[int] = set()

    targets: dict[str, Any] = {}

    def follow(reference: str) -> Any:
        if reference not in targets:
            try:
                targets[reference] = resolver.lookup(reference).contents
            except Unresolvable as exc:
                raise SpecError(f"{source}: unresolvable reference {reference!r}") from exc
        target = targets[reference]
        if id(target) in in_progress:
            raise SpecError(f"{source}: {reference} refers to itself; recursive schemas are not supported")
        return walk(target)

    def walk(node: Any) -> Any:
        if not isinstance(node, dict | list):
            return node
        if id(node) in copies:
            return copies[id(node)]
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            return follow(node["$ref"])
        in_progress.add(id(node))
        copy: Any = (
            {key: walk(value) for key, value in node.items()} if isinstance(node, dict) else list(map(walk, node))
        )
        in_progress.discard(id(node))
        copies[id(node)] = copy
        return copy

    resolved: dict[str, Any] = walk(document)
    return resolved

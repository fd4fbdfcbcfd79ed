"""The internals of libraries the mock relies on, each with the versions it was checked against.

1. uvicorn's connection transport (the faults). ASGI has no message for "close the connection
without answering", yet the `reset` and `empty` faults need exactly that (and `truncated` needs to
close after part of a body without uvicorn logging an error). uvicorn's `receive` callable is a bound
method of its request-response cycle, whose `transport` is the connection's asyncio transport.
`tests/test_faults.py` checks that the transport is found and that the client sees a reset and an
empty reply.

2. What the libraries import and serving never uses (`defer_unused_imports`, cold start). Importing any
module of Connexion runs its package `__init__`, which imports its apps, whose base module imports
`starlette.testclient` (httpx, and with it rich, click, pygments); `connexion.security` imports httpx
(for a token-info URL) and `connexion.json_schema` imports `requests` (for remote `$ref`s); any module
of `connexion.decorators` runs that package's `__init__`, which imports its Flask decorators (Flask,
with its CLI and click); `connexion.lifecycle` takes `Request` from Werkzeug's package, whose
`__init__` imports its development server and test client; `uvicorn.Config` comes from uvicorn's
package, whose `__init__` imports its command line (click, the reloaders, multiprocessing). A mock
serving its bundled specs uses none of them. `tests/test_cli_startup.py` checks that
`contract-mock serve` answers without importing them, and that the packages' names still work after.

3. What Connexion builds from each spec (its copies, the resolved document, its validation against the
OpenAPI schema), remembered between starts (`connexion_specifications_remembered`): `tests/test_app.py`
checks that a remembered `Specification` is the one Connexion builds (for every bundled spec), that an
unchanged spec is neither built nor validated twice, and that an invalid one is still refused.

4. Connexion's Swagger UI templates, made when the UI's page is first rendered
(`swagger_ui_templates_on_first_use`): `tests/test_cli_startup.py` checks that `serve` answers without
Jinja2's template compiler, and `tests/test_app.py` that the UI's page is the one Connexion renders.

5. jsonschema's `evolve`, for validators kept per subschema (below): `tests/test_serve_internals.py`
checks that they report exactly what the library's own do, on every schema of every spec.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import marshal
import socket
import struct
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHECKED_UVICORN = ((0, 30), (1, 0))  # [from, to)
CHECKED_CONNEXION = ((3, 0), (3, 4))  # [from, to): its package `__init__` only re-exports names of its modules
# Starlette deprecates its test client with httpx (not with httpx2), at import: Connexion's package imports it.
TESTCLIENT_DEPRECATION = r"Using `httpx` with `starlette\.testclient` is deprecated"
CHECKED_WERKZEUG = ((3, 0), (3, 2))  # [from, to): its package `__init__` only re-exports names of its modules
CHECKED_JINJA2 = ((3, 1), (3, 2))  # [from, to): its package `__init__` only re-exports names of its modules
# Each package whose `__init__` serving need not run, with the distribution whose versions were checked:
# Connexion's package and its decorators' (Flask's), what Connexion imports with a plain `import NAME`
# and uses only inside functions a mock serving its bundled specs never calls (a token-info client,
# remote `$ref`s), Werkzeug's (its server and test client), uvicorn's (its command line) and Jinja2's (whose
# templates serving renders only for a page: the Swagger UI's, the landing page, the OAuth login page).
DEFERRED_PACKAGES = {
    "connexion": "connexion",
    "connexion.decorators": "connexion",
    "httpx": "connexion",
    "requests": "connexion",
    "werkzeug": "werkzeug",
    "uvicorn": "uvicorn",
    "jinja2": "jinja2",
}
CHECKED_VERSIONS = {
    "connexion": CHECKED_CONNEXION,
    "werkzeug": CHECKED_WERKZEUG,
    "uvicorn": CHECKED_UVICORN,
    "jinja2": CHECKED_JINJA2,
}


def _version(text: str) -> tuple[int, int]:
    major, minor, *_ = (int(part) if part.isdigit() else 0 for part in text.split("."))
    return major, minor


def _uvicorn_checked() -> bool:
    return _checked("uvicorn")


def connection_transport(server_receive: Any) -> Any | None:
    """The asyncio transport behind uvicorn's `receive`, or None under another server or version."""
    if not _uvicorn_checked():
        return None
    transport = getattr(getattr(server_receive, "__self__", None), "transport", None)
    if transport is None or not callable(getattr(transport, "abort", None)):
        return None
    return transport


def reset(transport: Any) -> None:
    """Close with a TCP RST: SO_LINGER with a zero timeout, then abort (nothing buffered is sent)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


# -- Validators built once per subschema --------------------------------------------------------------------
# jsonschema's `descend` (every property, item and anyOf branch of every request) builds a new validator
# with `evolve(schema=…, _resolver=…)`: an attrs object, a resolver and the keyword list, on every request
# (bench/README.md, "Throughput": 5–26 % of the instructions of an update). For a schema from which no `$ref`
# can be reached the resolver is never asked for anything, so the validator of each subschema can be kept
# and handed out again, and `descend` need not build the subschema's resolver first (it passes the parent's
# `_resolver` on). `evolve` and `_resolver` are internal; `tests/test_serve_internals.py` checks that
# validators of this class report exactly what the library's own do, on every schema of every spec.
CHECKED_JSONSCHEMA = ((4, 18), (5, 0))  # [from, to)
MAX_KEPT_VALIDATORS = 50_000  # the four specs have a few thousand subschemas
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "dependencies"})  # name -> schema
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SUBSCHEMA = frozenset({"items", "additionalItems", "additionalProperties", "not"})  # a schema (or a list: items)


def _jsonschema_checked() -> bool:
    low, high = CHECKED_JSONSCHEMA
    return low <= _version(importlib.metadata.version("jsonschema")) < high


def references_nothing(schema: Any) -> bool:
    """Whether validating against `schema` can never follow a `$ref` (no `$ref` where a keyword can be;
    what only a `$ref` could reach, such as the `components` Connexion adds, does not count)."""
    if isinstance(schema, list):
        return all(references_nothing(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    if "$ref" in schema:
        return False
    for keyword, value in schema.items():
        if keyword in _SCHEMA_MAPS and isinstance(value, dict):
            subschemas: Any = list(value.values())
        elif keyword in _SCHEMA_LISTS or keyword in _SUBSCHEMA:
            subschemas = value
        else:
            continue
        if not references_nothing(subschemas):
            return False
    return True


def with_kept_subschema_validators(validator_class: Any) -> Any:
    """`validator_class` (made by `jsonschema.validators.extend` for us) keeping the validator of each
    subschema; only for schemas that `references_nothing`. Unchanged outside the checked versions."""
    if not _jsonschema_checked():
        return validator_class
    from jsonschema.validators import extend

    kept_class: Any = extend(validator_class, {})
    build = kept_class.evolve
    kept: dict[tuple[int, int], tuple[Any, Any]] = {}

    def evolve(self: Any, **changes: Any) -> Any:
        schema = changes.get("schema")
        if not isinstance(schema, dict) or not changes.keys() <= {"schema", "_resolver"}:
            return build(self, **changes)
        key = (id(schema), id(self.format_checker))
        entry = kept.get(key)
        if entry is None or entry[0] is not schema:  # the entry keeps its schema alive: ids are not reused
            if len(kept) >= MAX_KEPT_VALIDATORS:  # bounded, should a caller make schemas per request
                kept.clear()
            entry = kept[key] = (schema, build(self, **changes))
        return entry[1]

    descend_with = kept_class.descend

    def descend(
        self: Any, instance: Any, schema: Any, path: Any = None, schema_path: Any = None, resolver: Any = None
    ) -> Any:
        # Without a resolver, `descend` builds one for the subschema (a resource, a scope) that the kept
        # validator never takes and that a schema reaching no `$ref` never uses: the parent's is handed on.
        return descend_with(self, instance, schema, path, schema_path, self._resolver if resolver is None else resolver)

    kept_class.evolve = evolve
    kept_class.descend = descend
    return kept_class


def defer_unused_imports() -> bool:
    """Before anything imports them: let the mock import the modules of the `DEFERRED_PACKAGES` without
    running their package `__init__`. Each package runs its `__init__` when a name it defines is first
    looked up (`connexion.FlaskApp`, `httpx.AsyncClient`), or, when its `__init__` only re-exports names of
    its own modules, imports just the module a name comes from (`werkzeug.Request`, `uvicorn.Config`), so
    nothing changes for code that does use them.

    A package already imported, or of a version not checked, is left as it is. Whether Connexion's
    package was deferred (False when Connexion is already imported or is not a checked version).
    """
    deferred = {name for name, distribution in DEFERRED_PACKAGES.items() if _defer_package_init(name, distribution)}
    return "connexion" in deferred


@functools.cache
def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _checked(distribution: str) -> bool:
    installed = installed_version(distribution)
    low, high = CHECKED_VERSIONS[distribution]
    return installed is not None and low <= _version(installed) < high


def _connexion_checked() -> bool:
    return _checked("connexion")


def _defer_package_init(name: str, distribution: str) -> bool:
    """The package `name` in `sys.modules` as the import system makes it (spec, path, file), its
    submodules importable, its `__init__` not yet run: see `defer_unused_imports`. (The standard
    library's `LazyLoader` does not do: any `import name` after the first reads the module's `__spec__`,
    which makes it load.) False when the package is already imported, not found or not checked."""
    parent = name.rpartition(".")[0]
    if name in sys.modules or (parent and parent not in sys.modules) or not _checked(distribution):
        return False
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader
    exports = functools.cache(functools.partial(reexports, spec))  # read when a name is first looked up
    once = threading.Lock()

    def look_up(attribute: str) -> Any:
        if (names := exports()) is not None and attribute in names:  # what the `__init__` binds wins
            module, original = names[attribute]
            value = getattr(importlib.import_module(module), original) if module else original
            setattr(package, attribute, value)
            return value
        if importlib.util.find_spec(f"{name}.{attribute}") is not None:
            return importlib.import_module(f"{name}.{attribute}")  # a submodule, as `from package import module`
        with once:
            if package.__dict__.pop("__getattr__", None) is not None:  # not run by another thread meanwhile
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=TESTCLIENT_DEPRECATION)
                    loader.exec_module(package)
        return getattr(package, attribute)

    package.__getattr__ = look_up  # type: ignore[method-assign]
    sys.modules[name] = package
    if parent:
        setattr(sys.modules[parent], name.rpartition(".")[2], package)  # as the import system binds a submodule
    return True


def reexports(spec: Any) -> dict[str, tuple[str, Any]] | None:
    """For a package whose `__init__` only takes names from its own modules (`from .wrappers import
    Request as Request`) and sets constants (`__all__ = [...]`), each name it defines: (the module it
    comes from, the name there), or ("", the constant). None for any other `__init__`: running it is
    the only way to know what it defines."""
    try:
        source = spec.loader.get_source(spec.name)
    except (ImportError, OSError):
        return None
    if source is None:
        return None
    names: dict[str, tuple[str, Any]] = {}
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # the docstring
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            continue
        if isinstance(statement, ast.ImportFrom):
            module = importlib.util.resolve_name("." * statement.level + (statement.module or ""), spec.name)
            if not module.startswith(f"{spec.name}.") or any(alias.name == "*" for alias in statement.names):
                return None
            names.update({alias.asname or alias.name: (module, alias.name) for alias in statement.names})
            continue
        if isinstance(statement, ast.Assign) and all(isinstance(target, ast.Name) for target in statement.targets):
            try:
                value = ast.literal_eval(statement.value)
            except ValueError:
                return None
            names.update({target.id: ("", value) for target in statement.targets if isinstance(target, ast.Name)})
            continue
        return None
    return names


@functools.cache
def swagger_ui_templates_on_first_use() -> bool:
    """Connexion's Swagger UI makes a Jinja2 environment for its page when each API is added (with the
    first request): the import of Jinja2's template compiler and four environments, for a page a
    mock serving requests may never be asked for. From now on it gets one made when the page is first
    rendered (`_TemplatesOnFirstUse`). False (nothing changed) for an unchecked Connexion."""
    if not _connexion_checked():
        return False
    from connexion.middleware import swagger_ui
    from starlette.templating import Jinja2Templates

    if swagger_ui.Jinja2Templates is not Jinja2Templates:
        return False  # not the name this was checked against
    swagger_ui.Jinja2Templates = _TemplatesOnFirstUse
    return True


class _TemplatesOnFirstUse:
    """Starlette's `Jinja2Templates` with the same arguments, made when it is first used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._arguments = (args, kwargs)

    @functools.cached_property
    def _templates(self) -> Any:
        from starlette.templating import Jinja2Templates

        args, kwargs = self._arguments
        return Jinja2Templates(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._templates, name)


@contextlib.contextmanager
def connexion_specifications_remembered(cache_dir: Path | None) -> Iterator[None]:
    """While open (in this thread), Connexion builds each spec it is given only once per content: `add_api`
    copies the document twice, resolves its references and validates it against the OpenAPI schema at
    every start (most of `create_app`; Connexion has no option to skip any of it).

    What Connexion built from a document (its `Specification`'s copy of the document and the resolved
    one) is kept in `cache_dir` (`openapi_model.kept`), named by Connexion's, jsonschema's and Python's
    versions and the document itself (`marshal`'s content-only format: order and types count), so a
    changed spec or library has another name (never stale); a spec that fails validation keeps nothing
    (it fails again, the same way). A spec not kept yet is validated only if that very document has not
    passed before: a passing one leaves an empty marker file, named by the same versions and the document
    as canonical JSON. Without `cache_dir`, with a document that is not plain data, a cache that cannot
    be written, or an unchecked Connexion: what Connexion does.
    """
    if cache_dir is None or not _connexion_checked():
        yield
        return
    _install_remembered_specifications()
    previous = getattr(_REMEMBERING, "cache_dir", None)
    _REMEMBERING.cache_dir = cache_dir
    try:
        yield
    finally:
        _REMEMBERING.cache_dir = previous


_REMEMBERING = threading.local()
_SPECIFICATION_FORMAT = "connexion-specification 1"  # bump when what is kept changes meaning


@functools.cache
def _install_remembered_specifications() -> None:
    from connexion.spec import Specification

    from openapi_model import kept

    validate = Specification.__dict__["_validate_spec"].__func__
    build = Specification.__init__

    def remembered_validation(cls: type, spec: dict[str, Any]) -> None:
        cache_dir: Path | None = getattr(_REMEMBERING, "cache_dir", None)
        marker = _validation_marker(cache_dir, spec) if cache_dir is not None else None
        if marker is not None and marker.exists():
            return
        validate(cls, spec)
        if marker is not None:
            with contextlib.suppress(OSError):
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()

    def remembered_build(self: Any, raw_spec: Any, *, base_uri: str = "") -> None:
        cache_dir: Path | None = getattr(_REMEMBERING, "cache_dir", None)
        key = _specification_key(type(self), raw_spec) if cache_dir is not None and not base_uri else None
        if key is None:  # a spec from a file (relative references) or not plain data: as Connexion does
            build(self, raw_spec, base_uri=base_uri)
            return

        def built() -> tuple[Any, Any]:
            build(self, raw_spec, base_uri=base_uri)
            return self._raw_spec, self._spec

        self._raw_spec, self._spec = kept(cache_dir, "connexion-spec", key, built)
        self._base_uri = base_uri

    Specification._validate_spec = classmethod(remembered_validation)
    Specification.__init__ = remembered_build


def _specification_key(specification_class: type, document: Any) -> bytes | None:
    try:
        content = marshal.dumps(document, 2)  # version 2: the content alone (no sharing, no interning)
    except ValueError:
        return None  # dates, sets…: not kept
    kind = f"{specification_class.__module__}.{specification_class.__qualname__}"
    return f"{_SPECIFICATION_FORMAT} {kind} {_validating_libraries()} {sys.version}\n".encode() + content


def _validation_marker(cache_dir: Path, spec: dict[str, Any]) -> Path | None:
    try:
        document = json.dumps(spec, sort_keys=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None  # dates, sets, NaN…: no canonical form, no shortcut
    key = hashlib.sha256(f"{_validating_libraries()}\n{document}".encode())
    return cache_dir / "connexion-valid" / key.hexdigest()


@functools.cache
def _validating_libraries() -> str:
    return f"connexion {installed_version('connexion')}, jsonschema {installed_version('jsonschema')}"

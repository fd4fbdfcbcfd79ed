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

6. uvicorn's worker supervisor (`serve_workers`, `--workers N`). uvicorn hands every worker the one
socket it bound, and each worker's event loop accepts every pending connection at once: under a burst
one worker took them all (bench/scaling.py). Each worker here gets a listening socket of its own, bound
with SO_REUSEPORT, so that Linux spreads new connections across them; restarts, health checks and
signals stay uvicorn's (`Multiprocess`). It reads the supervisor's `sockets` attribute once per worker
it starts. `tests/test_redis_workers.py` checks that both workers answer connections.

7. Connexion's context variables of a request (`connexion_context_variables`), read by the dispatcher on
every request without werkzeug's `LocalProxy` (several Python calls per attribute). `tests/test_dispatch.py`
checks that they are what `connexion.context.context` and `connexion.context.operation` read.

8. What Connexion's router hands on (`connexion_routed_scope`, for `mock_server.edge.routing`): the scope
copy its `RoutingOperation` passes to the next middleware, with the path parameters and the routing
context its routed middlewares read. `tests/test_serve_internals.py` checks that the next middleware
gets the same scope, and the client the same answers, as through Connexion's own router.

9. Connexion's request validation (`request_validation_middleware`), finding the request's content type:
`RequestValidationOperation.extract_content_type` calls `connexion.utils.extract_content_type`, which
subscripts a `typing` alias on every call, about a twentieth of a read's instructions; the operation's
fallback media type is its private `_operation.consumes`. And the operation's `body_definition`, asked
four times per request, matches the media type against the spec's with `fnmatch` each time (a twentieth
of an update): each operation's answers are remembered per media type. `tests/test_serve_internals.py`
checks that the method finds what Connexion's finds, for every operation and many headers, and that the
remembered definitions are the very objects Connexion's give.
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
from collections.abc import Iterator, MutableMapping
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn import Config

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


# -- One listening socket per worker ------------------------------------------------------------------------
CHECKED_UVICORN_SUPERVISOR = ((0, 55), (1, 0))  # [from, to): `Multiprocess(config, sockets)`


def workers_listen_apart() -> bool:
    """Whether `serve_workers` gives each worker its own listening socket (SO_REUSEPORT, a checked uvicorn)."""
    low, high = CHECKED_UVICORN_SUPERVISOR
    version = installed_version("uvicorn")
    return hasattr(socket, "SO_REUSEPORT") and version is not None and low <= _version(version) < high


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT, not listening: a worker's (it listens on it) or
    the supervisor's (it keeps the port from anything without SO_REUSEPORT while workers come and go)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve_workers(config: Config) -> None:
    """`config.workers` workers under uvicorn's supervisor, each on its own listening socket (only when
    `workers_listen_apart()`). Returns when the supervisor stops (Ctrl-C, SIGTERM)."""
    from uvicorn.supervisors import Multiprocess

    host, port = config.host, config.port

    class OneSocketPerWorker(Multiprocess):
        """`Multiprocess` reads `sockets` each time it starts a worker: each read binds a new socket, and
        closes the one bound before (its worker started with it: the child holds its own copy)."""

        def __init__(self, config: Config) -> None:
            self._handed: list[socket.socket] = []
            super().__init__(config, sockets=[])

        @property
        def sockets(self) -> list[socket.socket]:
            self._close_handed()
            self._handed = [reuse_port_socket(host, port)]
            return self._handed

        @sockets.setter
        def sockets(self, _: list[socket.socket]) -> None:
            pass

        def _close_handed(self) -> None:
            for sock in self._handed:
                sock.close()

    supervisor = OneSocketPerWorker(config)
    try:
        supervisor.run()
    finally:
        supervisor._close_handed()


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

    descend_with, iter_errors_with = kept_class.descend, kept_class.iter_errors
    remembered = ValidScalars()

    def descend(
        self: Any, instance: Any, schema: Any, path: Any = None, schema_path: Any = None, resolver: Any = None
    ) -> Any:
        # Without a resolver, `descend` builds one for the subschema (a resource, a scope) that the kept
        # validator never takes and that a schema reaching no `$ref` never uses: the parent's is handed on.
        key = remembered.key(schema, self, instance)
        if key is not None and remembered.holds(key, schema):
            return _NO_ERRORS
        errors = descend_with(
            self, instance, schema, path, schema_path, self._resolver if resolver is None else resolver
        )
        return errors if key is None else remembered.watch(errors, key, schema)

    def iter_errors(self: Any, instance: Any, _schema: Any = None) -> Any:
        key = remembered.key(self.schema, self, instance) if _schema is None else None
        if key is not None and remembered.holds(key, self.schema):
            return _NO_ERRORS
        errors = iter_errors_with(self, instance, _schema)
        return errors if key is None else remembered.watch(errors, key, self.schema)

    kept_class.evolve = evolve
    kept_class.descend = descend
    kept_class.iter_errors = iter_errors
    return kept_class


_NO_ERRORS: tuple[()] = ()
MAX_REMEMBERED_SCALARS = 20_000
MAX_REMEMBERED_TEXT = 256  # characters of a string remembered valid (memory: at most 20 000 such strings)
_REMEMBERED_TYPES = frozenset({str, int, bool, float, type(None)})


class ValidScalars:
    """The scalars found valid against each subschema, so that a value met again is not validated again.

    Against a schema that reaches no `$ref`, with one validator class and format checker, whether a
    string, integer, boolean, null or float is valid depends on its type and value alone: jsonschema's
    keywords read nothing else (no state, no resolver). A stored record validated again after an
    update (or a body member sent again) then costs a lookup per member instead of every keyword of its
    subschema. Only "no errors" is remembered, and only once jsonschema has said so to the end; any
    other value is validated as always, so every error is still jsonschema's own, built afresh.
    Floats are told apart by their exact bits (0.0 and -0.0), and True from 1 by type.
    """

    def __init__(self) -> None:
        self._valid: dict[tuple[Any, ...], Any] = {}

    @staticmethod
    def key(schema: Any, validator: Any, instance: Any) -> tuple[Any, ...] | None:
        kind = type(instance)
        if kind not in _REMEMBERED_TYPES:
            return None
        if kind is str and len(instance) > MAX_REMEMBERED_TEXT:
            return None
        if kind is float:
            instance = instance.hex()
        elif kind is int and not -(2**64) < instance < 2**64:
            return None
        return (id(schema), id(validator.format_checker), validator.__class__, kind, instance)

    def holds(self, key: tuple[Any, ...], schema: Any) -> bool:
        return self._valid.get(key) is schema  # the entry keeps its schema alive: ids are not reused

    def watch(self, errors: Iterator[Any], key: tuple[Any, ...], schema: Any) -> Iterator[Any]:
        """`errors`, passed on; remembered valid when they run out without one."""
        for error in errors:
            yield error
            yield from errors
            return
        self.remember(key, schema)

    def remember(self, key: tuple[Any, ...], schema: Any) -> None:
        if len(self._valid) >= MAX_REMEMBERED_SCALARS:  # bounded, however many values clients send
            self._valid.clear()
        self._valid[key] = schema


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


# -- Connexion's routing context -------------------------------------------------------------------------
CHECKED_STARLETTE = ((1, 6), (2, 0))  # [from, to): `Mount`/`Route` matching as `Router.app` uses it


def connexion_routing_checked() -> bool:
    """Whether `connexion_routed_scope` is what this Connexion's `RoutingOperation` hands on, and the
    Starlette router's matching the one `mock_server.edge.routing` follows."""
    low, high = CHECKED_STARLETTE
    return _connexion_checked() and low <= _version(importlib.metadata.version("starlette")) < high


def connexion_routed_scope(
    scope: MutableMapping[str, Any], *, operation_id: str | None, api_base_path: str, path_params: dict[str, Any]
) -> dict[str, Any]:
    """The scope Connexion's `RoutingOperation` hands on for a route of the API mounted at `api_base_path`:
    a copy of the scope the routing middleware got, with the route's path parameters and the routing
    context (`connexion.middleware.abstract.ROUTING_CONTEXT`) its routed middlewares look the operation up by."""
    from connexion.middleware.abstract import ROUTING_CONTEXT

    routed = dict(scope)
    routed.setdefault("path_params", {}).update(path_params)
    routing = routed.setdefault("extensions", {}).setdefault(ROUTING_CONTEXT, {})
    routing.update({"api_base_path": api_base_path, "operation_id": operation_id})
    return routed


MAX_REMEMBERED_MEDIA_TYPES = 16  # per operation; requests name any media type they like


def remember_body_definitions(operation: Any) -> None:
    """Make the Connexion operation's `body_definition` (and so `body_schema`) answer each media type it
    was asked about before from memory: the answer depends only on the spec and the media type."""
    definition_of = operation.body_definition
    remembered: dict[str | None, Any] = {}

    def body_definition(content_type: str | None = None) -> Any:
        found = remembered.get(content_type)
        if found is None:
            found = definition_of(content_type)
            if len(remembered) < MAX_REMEMBERED_MEDIA_TYPES:
                remembered[content_type] = found
        return found

    operation.body_definition = body_definition


@functools.cache
def request_validation_middleware() -> type:
    """Connexion's `RequestValidationMiddleware`; for a checked Connexion, one whose operations find the
    content type (`extract_content_type`) without `connexion.utils.extract_content_type`."""
    from connexion.middleware.request_validation import (
        RequestValidationAPI,
        RequestValidationMiddleware,
        RequestValidationOperation,
    )

    if not _connexion_checked():
        stock: type = RequestValidationMiddleware
        return stock

    class Operation(RequestValidationOperation):  # type: ignore[misc]  # Connexion is untyped
        def extract_content_type(self, headers: list[tuple[bytes, bytes]]) -> tuple[str, str]:
            from connexion.utils import split_content_type

            content_type = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), None)
            mime_type, encoding = split_content_type(content_type)
            if mime_type is None:  # as Connexion: the operation's first media type, else bytes
                consumes = self._operation.consumes
                mime_type = consumes[0] if consumes else "application/octet-stream"
            return mime_type, "utf-8" if encoding is None else encoding

    class API(RequestValidationAPI):  # type: ignore[misc]
        def make_operation(self, operation: Any) -> Operation:
            remember_body_definitions(operation)
            return Operation(
                self.next_app,
                operation=operation,
                strict_validation=self.strict_validation,
                validator_map=self.validator_map,
            )

    class Middleware(RequestValidationMiddleware):  # type: ignore[misc]
        api_cls = API

    return Middleware


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


# -- Connexion's context variables --------------------------------------------------------------------------


def connexion_context_variables() -> tuple[ContextVar[dict[str, Any]], ContextVar[Any]] | None:
    """The variables behind `connexion.context.context` (the request's context: `token_info`…) and
    `connexion.context.operation` (the routed operation), or None outside the checked versions (then
    read the proxies)."""
    if not _connexion_checked():
        return None
    from connexion import context

    return context._context, context._operation

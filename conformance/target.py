"""What the harness is pointed at: base URL, credentials and the target file's variables.

Tokens are wrapped in `Secret` as soon as they are read and only revealed to build a request
header; `Redactor` scrubs them from everything that reaches a report or the console.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from conformance.apis import Api
from openapi_model import load_yaml

TOKEN_ENV = "CONFORMANCE_TOKEN"
ORG_ID_ENV = "CONFORMANCE_ORG_ID"
# The bundled mock's all-scopes token (fixtures/<api>/auth.yaml); a target file's `token` replaces it.
BUNDLED_MOCK_TOKEN = "dev-token"
REDACTED = "***"

TARGET_FILE_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "api": {"type": "string"},
        "base_url": {"type": "string", "pattern": "^https?://"},
        "token": {"type": "string", "minLength": 1},
        "org_id": {"type": ["string", "integer"]},
        "auth_prefix": {"type": "string", "minLength": 1},
        "org_header": {"type": "string", "minLength": 1},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "rate_limit": {"type": "string", "pattern": "^([0-9]+ */ *(s|sec|second|m|min|minute|h|hour|d|day)|none)$"},
        "record_ids": {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1},
        "variables": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        },
    },
}


class TargetError(Exception):
    """A target that cannot be used: a bad target file, or credentials that are missing."""


class Secret:
    """A credential that prints as `***`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class TargetFile:
    api: str | None = None
    base_url: str | None = None
    token: Secret | None = None
    org_id: str | None = None
    auth_prefix: str | None = None
    org_header: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    rate_limit: str | None = None
    record_ids: tuple[str | int, ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(TARGET_FILE_SCHEMA)


def load_target_file(path: Path) -> TargetFile:
    """A target file, TOML (`.toml`) or YAML (anything else)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else load_yaml(text)
    except (OSError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise TargetError(f"{path}: cannot read the target file: {exc}") from None
    data = data or {}
    problems = [
        f"{'.'.join(map(str, error.absolute_path)) or '(top level)'}: {error.message}"
        for error in _validator().iter_errors(data)
    ]
    if problems:
        raise TargetError(f"{path}: invalid target file\n" + "\n".join(f"  - {problem}" for problem in problems))
    return TargetFile(
        api=data.get("api"),
        base_url=data.get("base_url"),
        token=Secret(data["token"]) if "token" in data else None,
        org_id=str(data["org_id"]) if "org_id" in data else None,
        auth_prefix=data.get("auth_prefix"),
        org_header=data.get("org_header"),
        headers=dict(data.get("headers", {})),
        rate_limit=data.get("rate_limit"),
        record_ids=tuple(data.get("record_ids", ())),
        variables=dict(data.get("variables", {})),
    )


@dataclass(frozen=True)
class Credentials:
    """How requests authenticate: `Authorization: <prefix> <token>` plus the org header, if any.

    Against the bundled mock every token gets a `.<tenant>` suffix: the mock treats
    `<token>.<anything>` as the same grants in a tenant of its own, so runs never see each other.
    """

    auth_prefix: str
    token: Secret | None
    org_header: str | None = None
    org_id: str | None = None
    tenant: str | None = None

    def for_tenant(self, tenant: str) -> Credentials:
        return replace(self, tenant=tenant) if self.tenant is not None else self

    def token_value(self, token: str) -> str:
        return f"{token}.{self.tenant}" if self.tenant is not None else token

    def authorization(self, token: str | None = None) -> dict[str, str]:
        """The `Authorization` header with the default token, or with `token` (another variable's)."""
        value = token if token is not None else (self.token.reveal() if self.token is not None else None)
        return {"Authorization": f"{self.auth_prefix} {self.token_value(value)}"} if value is not None else {}

    def org(self) -> dict[str, str]:
        return {self.org_header: self.org_id} if self.org_header and self.org_id is not None else {}

    def headers(self) -> dict[str, str]:
        return {**self.org(), **self.authorization()}


PASSWORD_SUFFIX = "_password"  # a target variable named so is a credential (a login's), redacted like tokens


@dataclass(frozen=True)
class Target:
    api: Api
    base_url: str
    credentials: Credentials
    variables: Mapping[str, Any]
    record_ids: tuple[str | int, ...]
    headers: Mapping[str, str]
    rate_limit: str | None
    bundled: bool  # the project's own mock, started by the harness: writes are always allowed

    def secrets(self, auth_variables: Iterable[str] = ()) -> set[str]:
        """Every credential this target may send, as sent, for redaction."""
        found = set()
        if self.credentials.token is not None:
            found.add(self.credentials.token.reveal())
        for name in auth_variables:
            if isinstance(self.variables.get(name), str):
                found.add(self.variables[name])
        passwords = {
            value for name, value in self.variables.items() if name.endswith(PASSWORD_SUFFIX) and isinstance(value, str)
        }
        return found | {self.credentials.token_value(secret) for secret in found} | passwords


def resolve_target(
    api: Api,
    *,
    base_url: str | None,
    bundled: bool,
    target_file: Path | None = None,
    token: str | None = None,
    org_id: str | None = None,
    rate_limit: str | None = None,
    tenant: str | None = None,
) -> Target:
    """Combine flags, environment and target file; flags win over the environment, which wins over the file."""
    path = target_file or (api.default_target_file if api.default_target_file.is_file() else None)
    file = load_target_file(path) if path is not None else TargetFile()
    if file.api is not None and file.api != api.name:
        raise TargetError(f"the target file is for API {file.api!r}, not {api.name!r}")
    url = base_url or file.base_url
    if url is None:
        raise TargetError(f"{api.name}: no base URL (give --base-url, or base_url in the target file)")
    secret = _first_secret(token, os.environ.get(TOKEN_ENV), file.token, BUNDLED_MOCK_TOKEN if bundled else None)
    if secret is None:
        raise TargetError(f"{api.name}: no token (give --token, set {TOKEN_ENV}, or token in the target file)")
    org_header = file.org_header or api.org_header
    org = org_id or os.environ.get(ORG_ID_ENV) or file.org_id or (api.org_header_example() if bundled else None)
    if org_header and org is None:
        raise TargetError(f"{api.name}: the API needs the {org_header} header (give --org-id or set {ORG_ID_ENV})")
    credentials = Credentials(
        auth_prefix=file.auth_prefix or api.auth_prefix,
        token=secret,
        org_header=org_header,
        org_id=org,
        tenant=tenant if bundled else None,
    )
    return Target(
        api=api,
        base_url=url.rstrip("/"),
        credentials=credentials,
        variables=dict(file.variables),
        record_ids=file.record_ids,
        headers=dict(file.headers),
        rate_limit=rate_limit or file.rate_limit,
        bundled=bundled,
    )


def _first_secret(*candidates: str | Secret | None) -> Secret | None:
    for candidate in candidates:
        if isinstance(candidate, Secret):
            return candidate
        if candidate:
            return Secret(candidate)
    return None


@dataclass(frozen=True)
class Redactor:
    """Replaces every known credential in text that leaves the harness."""

    secrets: frozenset[str]

    def text(self, value: str) -> str:
        # Longest first, so that a derived token is not left half-redacted by its base token.
        for secret in sorted(self.secrets, key=len, reverse=True):
            value = value.replace(secret, REDACTED)
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: REDACTED if name.lower() in {"authorization", "cookie", "set-cookie"} else self.text(value)
            for name, value in headers.items()
        }

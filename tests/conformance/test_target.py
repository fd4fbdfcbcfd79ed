from __future__ import annotations

from pathlib import Path

import pytest

from conformance.apis import discover
from conformance.target import ORG_ID_ENV, TOKEN_ENV, Redactor, TargetError, load_target_file, resolve_target

ZOHO = discover()["zoho-desk"]
ELEVATE = discover()["elevate"]


@pytest.fixture(autouse=True)
def no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.delenv(ORG_ID_ENV, raising=False)


def test_toml_and_yaml_target_files_are_read_alike(tmp_path: Path) -> None:
    toml = tmp_path / "target.toml"
    toml.write_text('api = "elevate"\nrecord_ids = [5]\n[variables]\ncontract = 5\nreadonly_token = "ro"\n')
    yaml = tmp_path / "target.yaml"
    yaml.write_text("api: elevate\nrecord_ids: [5]\nvariables: {contract: 5, readonly_token: ro}\n")

    assert load_target_file(toml) == load_target_file(yaml)


def test_invalid_target_file_names_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "target.yaml"
    path.write_text("api: elevate\nrate_limit: fast\nvariabels: {}\n")

    with pytest.raises(TargetError) as excinfo:
        load_target_file(path)
    message = str(excinfo.value)
    assert "rate_limit: 'fast' does not match" in message
    assert "'variabels' was unexpected" in message


def test_flags_win_over_environment_which_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "target.yaml"
    path.write_text("api: zoho-desk\ntoken: from-file\norg_id: '1'\n")
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    monkeypatch.setenv(ORG_ID_ENV, "2")

    from_env = resolve_target(ZOHO, base_url="https://desk.zoho.com", bundled=False, target_file=path)
    from_flags = resolve_target(
        ZOHO, base_url="https://desk.zoho.com", bundled=False, target_file=path, token="flag", org_id="3"
    )

    assert from_env.credentials.headers() == {"Authorization": "Zoho-oauthtoken from-env", "orgId": "2"}
    assert from_flags.credentials.headers() == {"Authorization": "Zoho-oauthtoken flag", "orgId": "3"}


def test_a_real_target_needs_a_token_and_the_org_header(tmp_path: Path) -> None:
    empty = tmp_path / "target.yaml"
    empty.write_text("api: zoho-desk\n")

    with pytest.raises(TargetError, match="no token"):
        resolve_target(ZOHO, base_url="https://desk.zoho.com", bundled=False, target_file=empty)
    with pytest.raises(TargetError, match="needs the orgId header"):
        resolve_target(ZOHO, base_url="https://desk.zoho.com", bundled=False, target_file=empty, token="t")


def test_the_bundled_mock_gets_its_own_tenant_and_the_mock_target_file() -> None:
    target = resolve_target(ELEVATE, base_url="http://127.0.0.1:1/elevate", bundled=True, tenant="run-1")

    assert target.credentials.headers() == {"Authorization": "Bearer dev-token.run-1"}
    assert target.credentials.for_tenant("run-1-x").authorization("readonly-token") == {
        "Authorization": "Bearer readonly-token.run-1-x"
    }
    assert target.variables["contract_billing"] == 2


def test_target_file_for_another_api_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "target.yaml"
    path.write_text("api: revnue\n")

    with pytest.raises(TargetError, match="for API 'revnue', not 'elevate'"):
        resolve_target(ELEVATE, base_url="https://x", bundled=False, target_file=path, token="t")


def test_tokens_never_print_and_are_redacted_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "target.yaml"
    path.write_text("api: elevate\ntoken: abc-secret-123\nvariables: {readonly_token: ro-secret-456}\n")
    target = resolve_target(ELEVATE, base_url="https://x", bundled=False, target_file=path)
    redactor = Redactor(frozenset(target.secrets(["readonly_token"])))

    assert "abc-secret-123" not in repr(target)
    assert redactor.text("Bearer abc-secret-123 and ro-secret-456") == "Bearer *** and ***"
    assert redactor.headers({"Authorization": "anything", "X-Other": "abc-secret-123"}) == {
        "Authorization": "***",
        "X-Other": "***",
    }


def test_password_variables_are_redacted_too(tmp_path: Path) -> None:
    path = tmp_path / "target.yaml"
    path.write_text("api: elevate\ntoken: t-1\nvariables: {login_username: me, login_password: pw-secret-789}\n")
    target = resolve_target(ELEVATE, base_url="https://x", bundled=False, target_file=path)
    redactor = Redactor(frozenset(target.secrets()))

    assert redactor.text('{"username":"me","password":"pw-secret-789"}') == '{"username":"me","password":"***"}'

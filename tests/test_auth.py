from mock_server.engine.auth import Grant, TokenRegistry, fingerprint, required_scopes_for

REGISTRY = TokenRegistry.from_fixture(
    {"tokens": [{"token": "dev-token", "principal": "42", "scopes": ["read", "write"], "orgs": [1]}]}
)


def test_known_token_has_its_grant():
    assert REGISTRY.lookup("dev-token") == Grant("42", frozenset({"read", "write"}), frozenset({"1"}))


def test_derived_token_shares_the_grant_but_not_the_fingerprint():
    assert REGISTRY.lookup("dev-token.run-7") == REGISTRY.lookup("dev-token")
    assert fingerprint("dev-token.run-7") != fingerprint("dev-token")


def test_unknown_and_empty_suffix_tokens_are_rejected():
    assert REGISTRY.lookup("other") is None
    assert REGISTRY.lookup("dev-token.") is None
    assert REGISTRY.lookup("other.dev-token") is None


def test_fingerprint_does_not_contain_the_token():
    assert "dev-token" not in fingerprint("dev-token") and len(fingerprint("dev-token")) == 16


def test_required_scopes_default_to_read_for_reads_and_write_for_writes():
    assert required_scopes_for("GET", []) == ["read"]
    assert required_scopes_for("PATCH", []) == ["write"]
    assert required_scopes_for("PATCH", ["Desk.settings.UPDATE"]) == ["Desk.settings.UPDATE"]

"""The harness flags every deliberately broken variant of the mock, naming the rule it breaks.

The control is `test_cli.py::test_bundled_mock_conforms`: the unbroken mock, with the same seed and
depth, is flagged for nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from conformance.apis import discover
from conformance.boundaries import VALID_VALUE_REFUSED
from conformance.concurrency import LOST_UPDATE
from conformance.fuzz import DEFAULT_MAX_EXAMPLES
from conformance.invariants import UNSENT_UNCHANGED, UpdateModel
from conformance.results import CaseResult, Evidence, ExitCode, Outcome, RunResult, Suite
from conformance.run import RunOptions, SuiteChoice, run_api
from conformance.target import resolve_target
from launcher.servers import bundled_mock
from tests.conformance import variants
from tests.support.paths import REPO_ROOT

SEED = 20261122
MAX_EXAMPLES = DEFAULT_MAX_EXAMPLES


@dataclass(frozen=True)
class Variant:
    id: str
    api: str
    suite: SuiteChoice
    build: Callable[[pytest.MonkeyPatch], variants.ASGIApp]
    rules: frozenset[str]  # each must be flagged
    words: tuple[str, ...] = ()  # what the messages must also name (the member, the value)
    error: str = ""  # the one error the run must also report, after the results (a failed restore)
    inferred: frozenset[str] = frozenset()  # of `rules`, those that rest on our inference: they differ, not fail


def judge(variant: Variant) -> list[CaseResult]:
    """Run the harness against the variant, started like the mock (`contract-mock serve`, its own process),
    trusted like the bundled mock (writes allowed, a tenant per scenario)."""
    api = discover()[variant.api]
    with bundled_mock("--variant", variant.id, module="tests.conformance.variant_server", cwd=REPO_ROOT) as url:
        tenant = f"variant-{uuid.uuid4().hex[:8]}"
        target = resolve_target(api, base_url=f"{url}/{api.name}", bundled=True, tenant=tenant)
        options = RunOptions(apis=[api], suite=variant.suite, max_examples=MAX_EXAMPLES, seed=SEED)
        return run_api(target, options, seed=SEED, on_progress=lambda message: None)


def contract_type_rule_off(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    """contract_type is neither refused nor ignored: a PATCH or PUT changes it."""
    from mock_server.vendors import revnue

    monkeypatch.setattr(revnue, "_contract_type_change", lambda current, body: [])
    writable = lambda ctx: [name for name in ctx.spec.property_names(revnue.WRITABLE) if name != revnue.SCOPE]  # noqa: E731
    monkeypatch.setattr(revnue, "_writable_fields", writable)
    return variants.mock("revnue")


def billing_lock_off(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    monkeypatch.setattr("mock_server.vendors.elevate._check_billing_lock", lambda before, after: None)
    return variants.mock("elevate")


def patch_nulls_untouched(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    nullable = ["productId", "contractNumber", "description", "endDate", "notifyBefore", "notificationAgentIds"]
    return variants.with_operation("zoho-desk", "updateContract", variants.nulling_untouched(nullable))


def write_not_persisted(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    return variants.forgetful(variants.mock("abillity"))


def server_error_on_remove(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    return variants.with_operation("elevate", "updateCustomerContract", variants.failing_on_remove)


def ids_as_numbers(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    def numeric_id(scope: variants.Scope, status: int, body: object) -> tuple[int, object]:
        if isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"].isdigit():
            body = {**body, "id": int(body["id"])}
        return status, body

    return variants.RewriteResponses(variants.mock("zoho-desk"), variants.json_rewrite(numeric_id))


def relations_as_ids(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    """Revnue answering its relations as bare ids, where vendors.md says they are expanded."""

    def collapsed(contract: object) -> object:
        if not isinstance(contract, dict) or "contract_type" not in contract:
            return contract
        relations = ("customer", "supplier", "business_unit", "category", "parent_contract")
        return {key: value["id"] if key in relations and isinstance(value, dict) else value
                for key, value in contract.items()}  # fmt: skip

    def rewrite(scope: variants.Scope, status: int, body: object) -> tuple[int, object]:
        return status, [collapsed(item) for item in body] if isinstance(body, list) else collapsed(body)

    return variants.RewriteResponses(variants.mock("revnue"), variants.json_rewrite(rewrite))


def no_401_without_credentials(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    credentials = {"Authorization": "Bearer dev-token"}
    return variants.AddDefaultHeaders(variants.mock("elevate"), credentials)


def wrong_error_shape(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    return variants.mock("elevate", render_error=variants.detail_errors)


def not_found_as_200(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    def found(scope: variants.Scope, status: int, body: object) -> tuple[int, object]:
        return (200, {}) if status == 404 else (status, body)

    return variants.RewriteResponses(variants.mock("abillity"), variants.json_rewrite(found))


def text_json_refused(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    def refuse(scope: variants.Scope, status: int, body: bytes) -> tuple[int, bytes]:
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        if content_type.startswith(b"text/json"):
            return 415, b'{"Message": "The request entity\'s media type \'text/json\' is not supported."}'
        return status, body

    return variants.RewriteResponses(variants.mock("abillity"), refuse)


def org_id_not_checked(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    return variants.ReplaceRequestHeader(variants.mock("zoho-desk"), "orgId", "60000000001")


def notes_cleared_when_not_sent(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    return variants.with_operation("abillity", "updateContract", variants.clearing_unsent("Notes", ""))


def enum_value_refused(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    refuse = variants.sets("status", lambda value: value == "archived")
    return variants.RefuseWrites(
        variants.mock("revnue"), refuse, body={"status": ['"archived" is not a valid choice.']}
    )


def maximum_amount_refused(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    refuse = variants.sets("first_offer_value", lambda value: value == 999999999999999)
    return variants.RefuseWrites(variants.mock("revnue"), refuse, body={"first_offer_value": ["Too large."]})


def alert_days_refused(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    """Refuses renewalAlertDays of exactly its minimum (a violation), and of 14, the seeded value of the
    spec's example contract, so that the contract cannot be written back after the maximum was accepted."""
    refuse = variants.sets("renewalAlertDays", lambda value: value in (0, 14))
    return variants.RefuseWrites(variants.mock("elevate"), refuse, body={"error": "bad_request", "message": "no"})


def max_length_refused(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    refuse = variants.sets("DisplayName", lambda value: isinstance(value, str) and len(value) == 100)
    return variants.RefuseWrites(variants.mock("abillity"), refuse, body={"Message": "The request is invalid."})


def numeric_ids_refused(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    refuse = variants.sets("accountId", lambda value: isinstance(value, int))
    return variants.RefuseWrites(variants.mock("zoho-desk"), refuse, status=422, body={"errorCode": "INVALID_DATA"})


def unknown_ids_400(monkeypatch: pytest.MonkeyPatch, api: str) -> variants.ASGIApp:
    def bad_request(scope: variants.Scope, status: int, body: object) -> tuple[int, object]:
        return (400, body) if status == 404 else (status, body)

    return variants.RewriteResponses(variants.mock(api), variants.json_rewrite(bad_request))


def read_modify_write(monkeypatch: pytest.MonkeyPatch) -> variants.ASGIApp:
    api = discover()["abillity"]
    operation = next(op for op in api.operations() if op.method == "PATCH")
    writable = list(UpdateModel(api).request_members(operation, "application/json"))
    return variants.ReadModifyWrite(variants.mock("abillity"), writable)


VARIANTS = [
    Variant("rule switched off: contract_type may change", "revnue", SuiteChoice.SCENARIOS, contract_type_rule_off,
            frozenset({"revnue.contract-type-cannot-change"})),
    Variant("rule switched off: Elevate billing lock", "elevate", SuiteChoice.SCENARIOS, billing_lock_off,
            frozenset({"elevate.billing-lock-rejects-name", "elevate.billing-lock-rejects-start-date"})),
    Variant("PATCH nulls untouched fields", "zoho-desk", SuiteChoice.SCENARIOS, patch_nulls_untouched,
            frozenset({"zoho-desk.patch-keeps-untouched-fields"})),
    Variant("write not persisted", "abillity", SuiteChoice.SCENARIOS, write_not_persisted,
            frozenset({"abillity.patch-json-read-after-write"})),
    Variant("500 on some input", "elevate", SuiteChoice.ALL, server_error_on_remove,
            frozenset({"not_a_server_error", "elevate.op-remove"})),
    Variant("response field of the wrong type", "zoho-desk", SuiteChoice.ALL, ids_as_numbers,
            frozenset({"response_schema_conformance", "zoho-desk.ids-are-strings"})),
    Variant("relations answered as bare ids", "revnue", SuiteChoice.FUZZ, relations_as_ids,
            frozenset({"response_schema_conformance"}), ("supplier",)),
    Variant("missing 401", "elevate", SuiteChoice.ALL, no_401_without_credentials,
            frozenset({"ignored_auth", "elevate.unauthenticated-get-is-401"})),
    Variant("wrong error shape", "elevate", SuiteChoice.ALL, wrong_error_shape,
            frozenset({"response_schema_conformance", "elevate.unknown-contract-get-is-404"})),
    Variant("404 returned as 200", "abillity", SuiteChoice.SCENARIOS, not_found_as_200,
            frozenset({"abillity.unknown-contract-404"})),
    Variant("a documented content type refused", "abillity", SuiteChoice.SCENARIOS, text_json_refused,
            frozenset({"abillity.patch-text-json"})),
    Variant("orgId not checked", "zoho-desk", SuiteChoice.SCENARIOS, org_id_not_checked,
            frozenset({"zoho-desk.org-mismatch"})),
    Variant("a member cleared when not sent", "abillity", SuiteChoice.SCENARIOS, notes_cleared_when_not_sent,
            frozenset({UNSENT_UNCHANGED}), ("Notes",)),
    Variant("boundary refused: an enum value", "revnue", SuiteChoice.BOUNDARIES, enum_value_refused,
            frozenset({VALID_VALUE_REFUSED}), ("status", '"archived"', "enum")),
    Variant("boundary refused: an amount of exactly the maximum", "revnue", SuiteChoice.BOUNDARIES,
            maximum_amount_refused, frozenset({VALID_VALUE_REFUSED}), ("first_offer_value", "999999999999999")),
    Variant("boundary refused: exactly maxLength", "abillity", SuiteChoice.BOUNDARIES, max_length_refused,
            frozenset({VALID_VALUE_REFUSED}), ("DisplayName", "maxLength")),
    Variant("boundary refused: an id as a JSON number", "zoho-desk", SuiteChoice.BOUNDARIES, numeric_ids_refused,
            frozenset({VALID_VALUE_REFUSED}), ("accountId", "alternative type integer")),
    Variant("failed restore after a found violation", "elevate", SuiteChoice.BOUNDARIES, alert_days_refused,
            frozenset({VALID_VALUE_REFUSED}), ("renewalAlertDays=0",), error="restore failed"),
    Variant("400 for unknown ids (Zoho Desk)", "zoho-desk", SuiteChoice.SCENARIOS,
            lambda monkeypatch: unknown_ids_400(monkeypatch, "zoho-desk"),
            frozenset({"zoho-desk.unknown-contract-404"}), inferred=frozenset({"zoho-desk.unknown-contract-404"})),
    Variant("400 for unknown ids (Revnue)", "revnue", SuiteChoice.SCENARIOS,
            lambda monkeypatch: unknown_ids_400(monkeypatch, "revnue"), frozenset({"revnue.unknown-contract-404"}),
            inferred=frozenset({"revnue.unknown-contract-404"})),
    Variant("lost update under concurrency", "abillity", SuiteChoice.CONCURRENCY, read_modify_write,
            frozenset({LOST_UPDATE}), ("lost update",)),
]  # fmt: skip


def variant_named(id: str) -> Variant:
    return next(variant for variant in VARIANTS if variant.id == id)


@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.id for variant in VARIANTS])
def test_harness_flags_broken_variant(variant: Variant) -> None:
    results = judge(variant)

    flagged = {violation.rule: violation for result in results for violation in result.violations}
    missing = variant.rules - set(flagged)
    assert not missing, f"not flagged: {sorted(missing)}; flagged: {sorted(flagged)}"
    for rule in variant.rules:
        assert rule in flagged[rule].message, "the message names the rule"
        classes = {v.evidence for result in results for v in result.violations if v.rule == rule}
        if rule in variant.inferred:
            assert Evidence.DOCUMENTED not in classes, f"{rule} rests on our inference, not on the documents"
        else:
            assert Evidence.DOCUMENTED in classes, f"{rule} breaks a documented rule, yet is classed {classes}"
    for result in results:
        result.settle()
    documented = bool(variant.rules - variant.inferred)
    run = RunResult(cases=results, duration=0, targets={})
    assert (run.exit_code == ExitCode.VIOLATIONS) == documented
    assert replace(run, strict=True).exit_code == ExitCode.VIOLATIONS
    messages = " ".join(violation.message for result in results for violation in result.violations)
    assert all(word in messages for word in variant.words), messages
    errors = [result for result in results if result.outcome == Outcome.ERROR]
    if variant.error:
        # Every finding is kept; the failed restore is one more error, listed after them; the run exits 1.
        assert errors and all(variant.error in error.detail for error in errors)
        assert results.index(errors[0]) > max(i for i, r in enumerate(results) if r.outcome == Outcome.FAILED)
        assert run.exit_code == ExitCode.VIOLATIONS
    else:
        assert not [result.name for result in errors]


def test_scenario_violation_explains_request_expectation_and_response(monkeypatch: pytest.MonkeyPatch) -> None:
    results = judge(variant_named("404 returned as 200"))

    (result,) = [result for result in results if result.name == "abillity.unknown-contract-404"]
    (violation,) = result.violations
    assert result.suite == Suite.SCENARIOS and result.outcome == Outcome.FAILED
    assert "expected status 404, got 200" in violation.message
    assert violation.exchange is not None and violation.exchange.status == 200
    assert violation.exchange.request_headers["authorization"] == "***"
    assert '"status": 404' in violation.expected

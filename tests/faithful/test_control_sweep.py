"""The control sweep, short: one partner-style run per target, through a real pass-through proxy.

Every target here honours every documented rule, so every run must exit 0. A failure lists the checks
that flagged it: on a faithful target each is a false alarm of the harness (or a broken documented rule
in the implementation, to be fixed there); /work/notes/faithful-findings.md explains each one.
The full sweep (ten seeds per target) is `make control-sweep`.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.faithful.servers import running
from tests.faithful.sweep import APIS, KINDS, failing_cases, sweep_target

SEED = 1
MAX_EXAMPLES = 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("api", APIS)
def test_partner_style_run_conforms(api: str, kind: str, tmp_path: Path) -> None:
    (result,) = sweep_target(api, kind, [SEED], MAX_EXAMPLES, tmp_path)
    assert result.exit_code == 0, (
        f"conformance run --api {api} against the {kind} target (seed {SEED}) exited {result.exit_code}; "
        f"flagged on the current harness:\n  " + "\n  ".join(result.failing)
    )


def test_proxy_passes_requests_and_answers_through_unchanged() -> None:
    with running("zoho-desk") as upstream, running("proxy", "--upstream", upstream) as proxy:
        headers = {"Authorization": "Zoho-oauthtoken zd-full-9a1", "orgId": "7000001"}
        path = "/api/v1/contracts/88000000001001"
        direct, forwarded = (httpx.get(root + path, headers=headers) for root in (upstream, proxy))
        assert (forwarded.status_code, forwarded.content) == (direct.status_code, direct.content)
        refused = httpx.patch(proxy + path, headers=headers, content=b'{"contractName": ""}')
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["fieldName"] == "/contractName"
        assert httpx.request("TRACE", proxy + path, headers=headers).headers["Allow"]


def test_failing_cases_name_case_and_rule() -> None:
    report = {"cases": [
        {"outcome": "passed", "suite": "fuzz", "name": "GET /x · a", "violations": []},
        {"outcome": "failed", "suite": "scenarios", "name": "api.rule", "violations": [{"rule": "api.rule"}]},
    ]}  # fmt: skip
    assert failing_cases(report) == ["failed: scenarios api.rule ['api.rule']"]

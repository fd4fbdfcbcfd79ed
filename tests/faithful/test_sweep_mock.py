"""The control sweep, short, against the bundled mock judged as a partner's server: one partner-style run per API.

Through the pass-through proxy, with `--allow-writes` and a copy of the mock's own target file, so the
harness sees the mock exactly as it would see a partner's implementation. Every run must exit 0.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.faithful.servers import running
from tests.faithful.sweep import APIS, failing_cases, short_run_failure


@pytest.mark.parametrize("api", APIS)
def test_bundled_mock_conforms_partner_style(api: str, tmp_path: Path) -> None:
    failure = short_run_failure(api, "mock", tmp_path)
    assert failure is None, failure


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


def test_failing_cases_name_each_case_and_its_rules() -> None:
    report = {"cases": [
        {"outcome": "passed", "suite": "fuzz", "name": "GET /x · a", "violations": []},
        {"outcome": "failed", "suite": "scenarios", "name": "api.rule", "violations": [{"rule": "api.rule"}]},
    ]}  # fmt: skip
    assert failing_cases(report) == ["failed: scenarios api.rule ['api.rule']"]

"""Swagger UI in a real browser: for every API, authorize, "Try it out" on the update, see a 200 with
the changed record, the way a newcomer would after `make run`.

Headless Chromium from Debian's `chromium` package, driven by Playwright (Playwright's own browser
download cannot work here). Without it the tests skip, unless CONTRACT_MOCK_REQUIRE_BROWSER=1 (set by
.ci/run, which installs the package) turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.testing import MockServer
from mock_server.vendors import discover
from mock_server.vendors.base import Vendor
from tests.support.spec_examples import example_read, example_update, update_example_keys, update_operation

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
REQUIRE_BROWSER = os.environ.get("CONTRACT_MOCK_REQUIRE_BROWSER") == "1"
STEP_TIMEOUT_MS = 20_000
VENDORS = discover()


def browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"no {CHROMIUM}: install Debian's chromium package (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make install)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = browser_missing()
    if missing and REQUIRE_BROWSER:
        pytest.fail(f"CONTRACT_MOCK_REQUIRE_BROWSER=1 but {missing}")
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(STEP_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def tenant_token(server: MockServer, vendor: Vendor) -> str:
    """The API's most powerful fixture token, derived: a fresh tenant for this test."""
    registry = server.state.tokens[vendor.name]
    best = max(registry.tokens(), key=lambda token: len(registry.lookup(token).scopes))  # type: ignore[union-attr]
    return f"{best}.browser-{uuid.uuid4().hex[:8]}"


def authorize_with_token(modal: Any, token: str, scheme: str) -> None:
    """Authorize the spec's token scheme (`scheme`) alone: a spec may declare other ways in (aBILLity's headers)."""
    container = modal.locator(".auth-container").filter(has_text=scheme)
    container.locator("input").first.fill(token)
    container.locator("button.modal-btn.auth.authorize").click()


def token_scheme(spec: Any) -> str:
    """The name of the spec's first HTTP (bearer-style) security scheme."""
    schemes = spec.raw["components"]["securitySchemes"]
    return next(name for name, scheme in schemes.items() if scheme.get("type") == "http")


def authorize_with_oauth(page: Any, modal: Any, token: str) -> None:
    """Swagger UI's authorization code flow, against the mock's sign-in page and token endpoint."""
    modal.locator("#client_id").fill("swagger-ui-browser-test")
    modal.locator("#client_secret").fill("not-checked")
    modal.get_by_text("select all").click()
    with page.expect_popup() as popup_info:
        modal.locator("button.modal-btn.auth.authorize").click()
    sign_in = popup_info.value
    sign_in.locator('input[name="derived_token"]').fill(token)
    with sign_in.expect_event("close"):  # listening before the click: the redirect page closes at once
        sign_in.locator("button:not([name])").click()
    modal.get_by_role("button", name="Logout").wait_for()  # Swagger UI holds the token


def changing_example(server: MockServer, vendor: Vendor) -> str | None:
    """The first named example of the update that changes its record (each tried in a scratch tenant)."""
    for key in update_example_keys(server.state.specs[vendor.name]):
        token = tenant_token(server, vendor)
        example = example_update(server.state.specs[vendor.name], vendor, key)
        headers = example.with_token(vendor, token)
        answer = httpx.request(example.method, server.url + example.path, content=example.content, headers=headers)
        if answer.status_code == 200 and answer.json() != read_record(server, vendor, tenant_token(server, vendor)):
            return key
    return None


def read_record(server: MockServer, vendor: Vendor, token: str) -> Any:
    example = example_read(server.state.specs[vendor.name], vendor)
    response = httpx.get(server.url + example.path, headers=example.with_token(vendor, token), timeout=10)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("vendor", list(VENDORS.values()), ids=list(VENDORS))
def test_try_it_out_updates_the_record(page, server, vendor):
    token = tenant_token(server, vendor)
    before = read_record(server, vendor, token)
    _, _, operation = update_operation(server.state.specs[vendor.name])
    example_key = changing_example(server, vendor)

    page.goto(f"{server.url}{vendor.prefix}/ui/")
    page.locator("button.btn.authorize").click()
    modal = page.locator(".modal-ux")
    if vendor.oauth is not None:
        authorize_with_oauth(page, modal, token)
    else:
        authorize_with_token(modal, token, token_scheme(server.state.specs[vendor.name]))
    modal.locator("button.btn-done").first.click()  # one per scheme; any closes the dialog

    block = page.locator(f'.opblock[id$="-{operation["operationId"]}"]')
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    content_type = example_update(server.state.specs[vendor.name], vendor).content_type
    if content_type is not None:
        block.locator(".opblock-section-request-body select.content-type").select_option(content_type)
    if example_key is not None:
        block.locator(".opblock-section-request-body .examples-select select").select_option(example_key)
    block.locator("button.execute").click()  # with the spec's example parameters and body
    result = block.locator(".live-responses-table tbody tr.response").first
    result.wait_for()

    assert result.locator(".response-col_status").inner_text().strip() == "200"
    shown = json.loads(result.locator("pre.microlight").first.inner_text())
    assert shown != before
    assert read_record(server, vendor, token) == shown  # stored, in the tenant of the token given to Swagger UI


def test_a_missing_browser_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(f"{__name__}.CHROMIUM", tmp_path / "chromium")
    assert "install Debian's chromium package" in (browser_missing() or "")

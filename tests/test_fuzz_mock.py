"""Schemathesis against the mock, every check, every operation, 200+ examples each.

Finds 5xx, responses that break the spec, and invalid requests the mock accepts. Schema-valid
requests may still be refused for a documented business rule (a reference to a record that does not
exist, a cross-field rule), answered with the vendor's rule status: 400, or 422 for Zoho.
"""

import re
from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from conformance.apis import discover as discover_apis
from conformance.fuzz import binds_as_null_somewhere
from mock_server.app import create_app, mock_state
from mock_server.config import DEFAULT_SPEC_DIR, Settings
from mock_server.vendors import discover
from mock_server.vendors.base import Vendor

EXAMPLES_PER_OPERATION = 200
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422"]
"""
APP = create_app(Settings(validate_responses=True, limits=False))  # fuzzing judges behaviour; limits: test_limits.py


def fuzz_test(vendor: Vendor) -> Callable[..., None]:
    schema = schemathesis.openapi.from_path(
        DEFAULT_SPEC_DIR / f"{vendor.name}.yaml", config=SchemathesisConfig.from_str(CONFIG)
    )
    schema.app = APP
    schema.config.update(base_url=f"http://127.0.0.1{vendor.prefix}")

    @schema.auth()
    class VendorToken:
        """Schemathesis' own auth hook, so its auth checks can still drop or spoil the credentials."""

        def get(self, case, ctx):
            return "dev-token.fuzz"

        def set(self, case, token, ctx):
            auth_prefix = mock_state(APP).specs[vendor.name].auth_prefix
            case.headers = {**(case.headers or {}), "Authorization": f"{auth_prefix} {token}"}

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    def test(case):
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        if negative and binds_as_null_somewhere(discover_apis()[vendor.name], case):
            return  # "" in a form whose binder reads it as null (`x-empty-means-null`) is no invalid value
        org = (case.headers or {}).get(vendor.org_header or "")
        if org is not None and re.fullmatch(r"[0-9]+", str(org)):
            # A well-formed organisation id: use the token's own, so the rules behind auth get exercised.
            case.headers[vendor.org_header] = discover_apis()[vendor.name].org_header_example()
        case.call_and_validate()

    return test


for _vendor in discover().values():
    globals()[f"test_{_vendor.name.replace('-', '_')}_conforms_to_its_spec"] = fuzz_test(_vendor)

"""The control sweep, short, against the independent faithful implementations: one partner-style run each.

Each implementation honours every documented rule, so every run must exit 0. A failure lists the checks
that flagged it: each is a false alarm of the harness, or a broken documented rule in the implementation
(to be fixed there). tests/faithful/FINDINGS.md explains each one flagged by the harness at main 7e34b7e.
The full sweep (ten seeds per target) is `make control-sweep`; the mock's short runs are in test_sweep_mock.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faithful.sweep import APIS, short_run_failure


@pytest.mark.parametrize("api", APIS)
def test_faithful_implementation_conforms_partner_style(api: str, tmp_path: Path) -> None:
    failure = short_run_failure(api, "faithful", tmp_path)
    assert failure is None, failure

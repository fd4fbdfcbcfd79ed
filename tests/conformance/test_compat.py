"""`conformance._compat`: the write check is a Schemathesis check only while a run uses it."""

from __future__ import annotations

import subprocess
import sys

import schemathesis
from schemathesis.checks import CHECKS

from conformance import _compat
from conformance.write_check import CHECK_NAME, update_semantics


def test_importing_the_harness_registers_no_check() -> None:
    check = (
        "import conformance.run, conformance.fuzz; from schemathesis.checks import CHECKS; "
        f"print({CHECK_NAME!r} in CHECKS.get_all_names())"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"


def test_the_check_is_registered_for_the_runs_that_use_it_and_removed_after() -> None:
    assert _compat.can_unregister(), f"Schemathesis {schemathesis.__version__}: check conformance/_compat.py"
    assert CHECK_NAME not in CHECKS.get_all_names()
    with _compat.registered_check(update_semantics):
        with _compat.registered_check(update_semantics):  # two runs at once
            assert CHECK_NAME in CHECKS.get_all_names()
        assert CHECK_NAME in CHECKS.get_all_names()
    assert CHECK_NAME not in CHECKS.get_all_names()

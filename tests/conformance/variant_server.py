"""`python -m tests.conformance.variant_server serve [contract-mock serve flags] --variant ID`.

`contract-mock serve` with one broken variant of the mock (`test_broken_variants.VARIANTS`): the variant
is built in this process, where its monkeypatches apply, and handed to the mock's own `serve`, so it
runs on the same server stack as `contract-mock serve` and is started by the same launcher
(`launcher.servers.bundled_mock`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pytest

import mock_server.app
from mock_server import cli


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--variant", required=True)
    known, serve_arguments = parser.parse_known_args(argv)
    from tests.conformance.test_broken_variants import VARIANTS

    variant = next(variant for variant in VARIANTS if variant.id == known.variant)
    app = variant.build(pytest.MonkeyPatch())

    def variant_app(*arguments: Any, **options: Any) -> Any:
        return app

    mock_server.app.create_app = variant_app  # type: ignore[assignment]
    return cli.main([*serve_arguments, "--api", variant.api])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

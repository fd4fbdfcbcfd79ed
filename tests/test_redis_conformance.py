"""`conformance run --api all` against the bundled mock on the Redis store (`--store-backend redis`).

The default pass runs the same check on the in-memory store (tests/conformance/test_cli.py, with
its time budget); `make test` runs this file in its second pass, where CONTRACT_MOCK_STORE points
the bundled mock at the session's redis-server.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis

from conformance.results import ExitCode
from mock_server.state.redis_store import RedisStore
from tests.conformance.test_broken_variants import MAX_EXAMPLES, SEED
from tests.support.paths import REPO_ROOT


def test_bundled_mock_on_redis_conforms(store_backend: str) -> None:
    if store_backend != "redis":
        pytest.skip("runs in the --store-backend redis pass of `make test`")
    assert os.environ["CONTRACT_MOCK_STORE"].startswith("redis://")
    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--api", "all", "--seed", str(SEED),
         "--max-examples", str(MAX_EXAMPLES)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert completed.returncode == ExitCode.CONFORMS, completed.stdout[-5000:] + completed.stderr[-3000:]
    assert "Conforms: nothing flagged" in completed.stdout
    client = redis.Redis.from_url(os.environ["CONTRACT_MOCK_STORE"])
    assert RedisStore(client, {}).tenants()  # the mock kept its tenants in Redis (its default key prefix)
    client.close()

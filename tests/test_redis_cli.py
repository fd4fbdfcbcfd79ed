"""`contract-mock serve` with --store, --workers and the tenant bounds, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from launcher.servers import free_port
from mock_server.cli import build_parser


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server.cli", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_several_workers_on_the_in_memory_store_refuse_to_start():
    # Without the store the environment may name (the Redis pass of `make test` sets CONTRACT_MOCK_STORE).
    in_memory = {name: value for name, value in os.environ.items() if name != "CONTRACT_MOCK_STORE"}
    result = run_cli("serve", "--workers", "2", "--port", str(free_port()), env=in_memory)
    assert result.returncode == 2
    assert "--workers 2 needs a shared store" in result.stderr and "--store redis://" in result.stderr


def test_a_store_that_is_not_a_redis_url_is_refused():
    result = run_cli("serve", "--store", "http://127.0.0.1:1/0", "--port", str(free_port()))
    assert result.returncode == 2 and "--store must be a URL starting with redis://" in result.stderr


def test_an_unreachable_store_is_refused_without_showing_its_password():
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    result = run_cli("serve", "--store", url, "--port", str(free_port()))
    assert result.returncode == 2 and "cannot reach the Redis store at 127.0.0.1" in result.stderr
    assert "s3cret" not in result.stderr


def test_tenant_bounds_and_store_from_flags_or_environment(monkeypatch):
    monkeypatch.setenv("CONTRACT_MOCK_STORE", "redis://127.0.0.1:6390/3")
    args = build_parser().parse_args(["serve", "--max-tenants", "50", "--tenant-idle-ttl", "30m"])
    assert (args.store, args.max_tenants, args.tenant_idle_ttl) == ("redis://127.0.0.1:6390/3", 50, 1800.0)
    args = build_parser().parse_args(["serve", "--store", "redis://h:1/0", "--tenant-idle-ttl", "90"])
    assert (args.store, args.tenant_idle_ttl) == ("redis://h:1/0", 90.0)


def test_bad_tenant_bounds_are_argument_errors():
    for flag, value in (("--max-tenants", "0"), ("--tenant-idle-ttl", "soon"), ("--tenant-idle-ttl", "-1h")):
        result = run_cli("serve", flag, value)
        assert result.returncode == 2 and flag in result.stderr

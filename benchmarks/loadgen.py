"""A closed-loop HTTP/1.1 load generator: N connections, each sending its next request as soon
as the previous answer is in, timing every request.

In the repository rather than ``wrk`` so the benchmarks need nothing beyond the dev extra. It
speaks just enough HTTP for the benchmark project (``Content-Length`` bodies, keep-alive, and
servers that close the connection after each answer, as gunicorn's sync worker does), and uses
uvloop when it is installed (``uvicorn[standard]`` brings it). One client core drives about
10,000 requests/s, several times what one server worker answers for a Django view, so the
server, not the client, is the bottleneck.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class Load:
    """What one run measured: every request's latency in nanoseconds, and the run's length."""

    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_ns) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies_ns:
            return float("nan")
        ordered = sorted(self.latencies_ns)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1e6


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, server closes the connection) of one response, its body read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    closes = headers.get("connection") == "close"
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif closes:
        await reader.read()
    else:
        raise RuntimeError(f"the server answered without Content-Length: {headers}")
    return status, closes


async def _client(port: int, path: str, until: float, record_from: float, load: Load) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (start := time.monotonic_ns()) < until:
            writer.write(request)
            try:
                status, closes = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError):
                load.errors += 1
                closes, status = True, 0
            if status == 200 and start >= record_from:
                load.latencies_ns.append(time.monotonic_ns() - start)
            elif status != 200:
                load.errors += 1
            if closes:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def _run(port: int, path: str, connections: int, warmup: float, seconds: float) -> Load:
    load = Load(seconds=seconds)
    now = time.monotonic_ns()
    record_from = now + int(warmup * 1e9)
    until = record_from + int(seconds * 1e9)
    await asyncio.gather(*(_client(port, path, until, record_from, load) for _ in range(connections)))
    return load


def run(port: int, *, seconds: float, warmup: float = 0.5, connections: int = 8, path: str = "/") -> Load:
    """Load ``http://127.0.0.1:port/path`` for ``warmup`` (not recorded) then ``seconds``."""
    try:
        import uvloop

        return uvloop.run(_run(port, path, connections, warmup, seconds))
    except ImportError:
        return asyncio.run(_run(port, path, connections, warmup, seconds))

"""What the Hypercorn, Daphne, uWSGI and Gunicorn+Uvicorn tests ask of a running server.

Each helper talks to the real server over loopback and, on failure, raises the child's
output with the reason (``Child.fail``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import threading
from collections.abc import Callable
from typing import Any

from harness import GRANIAN_WORKER_RACE, Child, exits_cleanly, http_get


def page(child: Child, url: str, status: int = 200, body: str | None = None) -> str:
    response = http_get(url, timeout=10)
    if response.status != status or (body is not None and response.text != body):
        raise child.fail(f"GET {url}: {response.status} {response.text[:200]!r}, expected {status} {body!r}")
    return response.text


def streamed_lines(child: Child, url: str) -> None:
    """The async streaming view arrives whole, in order."""
    page(child, url, body="chunk 0\nchunk 1\nchunk 2\n")


def websocket_echo(child: Child, url: str, tls: ssl.SSLContext | None = None) -> None:
    """One message through testproject's /ws/echo/ (``tls`` for a ``wss://`` URL).

    websockets' asyncio client, not its threaded sync one: over TLS the sync client reads the
    socket from a second thread while the first writes the upgrade request, and under load about
    one handshake in twenty never completes (and its clean-up then blocks in that read). A
    single-threaded client sending the same request got every answer in 1800 tries.
    """
    from websockets.asyncio.client import connect

    async def echo() -> str:
        async with connect(url, ssl=tls, open_timeout=10, close_timeout=5) as ws:
            await ws.send("hello")
            return str(await asyncio.wait_for(ws.recv(), 10))

    try:
        answer = asyncio.run(echo())
    except Exception as exc:
        raise child.fail(f"websocket {url} failed: {exc!r}") from exc
    if answer != "echo: hello":
        raise child.fail(f"websocket {url} answered {answer!r}")


def request_in_flight_survives(child: Child, base: str, stop: Callable[[], None], seconds: float = 2) -> None:
    """``stop()`` while /slow/ sleeps in the app: the request still completes with its answer."""
    outcome: dict[str, Any] = {}

    def request() -> None:
        try:
            outcome["response"] = http_get(f"{base}/slow/?seconds={seconds}", timeout=30)
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    child.wait_for_line("slow view started", timeout=20)
    stop()
    thread.join(40)
    response = outcome.get("response")
    if response is None:
        raise child.fail(f"the in-flight request failed after SIGTERM: {outcome.get('error')!r}")
    if response.status != 200 or response.text != f"slept {float(seconds)}":
        raise child.fail(f"the in-flight request got {response.status} {response.text!r}")


def sigterm_with_request_in_flight(
    child: Child, base: str, seconds: float = 2, *, every_process: bool = False
) -> None:
    """SIGTERM while /slow/ sleeps in the app: the request completes, then the server exits 0.

    ``every_process``: SIGTERM to the child's whole process group (its workers, a router), as
    Heroku sends it to every process of a dyno and systemd's default ``KillMode`` to every
    process of a unit, instead of to the child alone; granian may then exit 1 (its race, see
    :data:`harness.GRANIAN_WORKER_RACE`)."""

    def stop() -> None:
        if every_process:
            os.killpg(child.proc.pid, signal.SIGTERM)
        else:
            child.send(signal.SIGTERM)

    request_in_flight_survives(child, base, stop, seconds)
    exits_cleanly(child, tolerate=GRANIAN_WORKER_RACE if every_process else None)

"""Waitress stops as every other backend does: work in flight gets the whole graceful budget.

Waitress' own shutdown gives running requests 5 s and cancels the accepted ones still
queued; under prodserver both finish within ``platform.GRACEFUL_SECONDS``.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

from django_prodserver import platform
from harness import Response, exits_cleanly, free_port, http_get, prodserver, wait_until

pytestmark = pytest.mark.usefixtures("no_platform_variables")

WAITRESS = "django_prodserver.backends.waitress.WaitressServer"
#: Longer than waitress' own 5 s, well inside our budget.
IN_FLIGHT_SECONDS = 6.5


def request_in_background(url: str, outcome: dict[str, Any]) -> threading.Thread:
    def get() -> None:
        try:
            outcome[url] = http_get(url, timeout=30)
        except Exception as exc:
            outcome[url] = exc

    thread = threading.Thread(target=get, daemon=True)
    thread.start()
    return thread


def test_a_request_in_flight_longer_than_waitress_own_5s_and_a_queued_one_both_complete() -> None:
    assert platform.GRACEFUL_SECONDS > IN_FLIGHT_SECONDS
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # One thread: the second request waits in waitress' queue behind the first.
    processes = {"web": {"BACKEND": WAITRESS, "ARGS": {"host": "127.0.0.1", "port": port, "threads": 1}}}
    with prodserver("web", processes=processes) as child:
        child.wait_http(f"{base}/")
        outcome: dict[str, Any] = {}
        slow, queued = f"{base}/slow/?seconds={IN_FLIGHT_SECONDS}", f"{base}/slow/?seconds=0.1"
        threads = [request_in_background(slow, outcome)]
        started = child.lines.index(child.wait_for_line("slow view started"))
        threads.append(request_in_background(queued, outcome))
        # Waitress says so when a task waits for a thread (the first request may say it too).
        wait_until(
            "the second request queued",
            lambda: any("Task queue depth is 1" in line for line in child.lines[started:]),
            child,
        )
        child.send(signal.SIGTERM)
        for thread in threads:
            thread.join(40)
        for url, body in ((slow, f"slept {IN_FLIGHT_SECONDS}"), (queued, "slept 0.1")):
            response = outcome.get(url)
            if not isinstance(response, Response) or (response.status, response.text) != (200, body):
                raise child.fail(f"GET {url} after SIGTERM: {response!r}")
        exits_cleanly(child)

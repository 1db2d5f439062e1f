"""The readiness verdict: shared by every probe for READY_CACHE seconds, each check bounded.

In-process first (the verdict needs no server), then on a real gunicorn in front of a real
PostgreSQL: a flood of probes opens one connection, and a black-holed database answers 503
within READY_TIMEOUT instead of pinning the worker.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

import django

from django_prodserver.health import Check
from django_prodserver.readiness import Verdicts
from harness import DATABASE_URL, free_port, http_get, prodserver
from test_health import MIDDLEWARE, POD_HOST, database, web

django.setup()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_concurrent_probes_share_one_run_of_the_checks() -> None:
    release = threading.Event()
    calls: list[int] = []

    def slow() -> None:
        calls.append(1)
        release.wait(10)

    verdicts = Verdicts([Check("slow", slow)], cache_seconds=5, timeout=10)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(verdicts.results) for _ in range(8)]
        wait = threading.Event()
        while not calls:
            wait.wait(0.01)
        release.set()
        assert [f.result() for f in futures] == [{"slow": True}] * 8
    assert len(calls) == 1


def test_the_verdict_is_reused_until_it_is_older_than_the_cache() -> None:
    calls: list[int] = []
    clock = Clock()
    verdicts = Verdicts([Check("count", lambda: calls.append(1))], cache_seconds=2, timeout=5, clock=clock)
    verdicts.results()
    clock.now += 1.9
    verdicts.results()
    assert len(calls) == 1
    clock.now += 0.1
    verdicts.results()
    assert len(calls) == 2


def test_a_hung_check_fails_at_the_timeout_and_is_not_started_again(caplog: Any) -> None:
    release = threading.Event()
    calls: list[int] = []

    def hang() -> None:
        calls.append(1)
        release.wait(30)

    verdicts = Verdicts([Check("hang", hang), Check("ok", lambda: None)], cache_seconds=0, timeout=0.2)
    try:
        assert verdicts.results() == {"hang": False, "ok": True}
        assert verdicts.results() == {"hang": False, "ok": True}
    finally:
        release.set()
    assert len(calls) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "Readiness check hang failed: no answer within 0.2 s",
        "Readiness check hang failed: its previous run has not returned yet",
    ]


@contextlib.contextmanager
def counting_proxy(port: int, upstream: tuple[str, int]) -> Iterator[list[int]]:
    """Forward 127.0.0.1:port to ``upstream``, counting the connections it accepts."""
    from test_health import tcp_proxy

    accepted: list[int] = []
    original = socket.create_connection

    def counted(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if tuple(address) == upstream:
            accepted.append(1)
        return original(address, *args, **kwargs)

    socket.create_connection = counted  # type: ignore[assignment]
    try:
        with tcp_proxy(port, upstream):
            yield accepted
    finally:
        socket.create_connection = original


def test_a_probe_flood_opens_one_database_connection() -> None:
    port, db_port = free_port(), free_port()
    upstream = urlparse(DATABASE_URL)
    processes = web("gunicorn", port)
    processes["web"]["ARGS"]["threads"] = 8
    settings = {
        "MIDDLEWARE": MIDDLEWARE,
        "DATABASES": {"default": database(DATABASE_URL, port=db_port)},
        "PRODSERVER_HEALTH": {"READY_CHECKS": ["database"], "READY_CACHE": 300},
    }
    target = (upstream.hostname or "127.0.0.1", upstream.port or 5432)
    with (
        counting_proxy(db_port, target) as accepted,
        prodserver("web", processes=processes, settings=settings) as child,
    ):
        url = f"http://127.0.0.1:{port}/readyz/"
        child.wait_http(f"http://127.0.0.1:{port}/healthz/")
        before = len(accepted)
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: http_get(url, headers=POD_HOST).status, range(64)))
        assert answers == [200] * 64, child.output
        assert len(accepted) - before == 1, child.output


def test_a_black_holed_database_answers_503_within_the_timeout() -> None:
    port = free_port()
    # Accepts TCP connections (the kernel's backlog) and never says a word.
    hole = socket.create_server(("127.0.0.1", 0), backlog=16)
    db = database(DATABASE_URL, port=hole.getsockname()[1])
    db["OPTIONS"] = {"connect_timeout": 600}
    settings = {
        "MIDDLEWARE": MIDDLEWARE,
        "DATABASES": {"default": db},
        "PRODSERVER_HEALTH": {"READY_CHECKS": ["database"], "READY_CACHE": 0, "READY_TIMEOUT": 1},
    }
    down = (503, {"status": "error", "checks": {"database:default": "error"}})
    with hole, prodserver("web", processes=web("gunicorn", port), settings=settings) as child:
        base = f"http://127.0.0.1:{port}"
        child.wait_http(f"{base}/healthz/")
        for _ in range(3):
            response = http_get(f"{base}/readyz/", headers=POD_HOST, timeout=30)
            assert (response.status, response.json()) == down, child.output
        assert http_get(f"{base}/healthz/", headers=POD_HOST).status == 200
        # Logged before each 503 went out, but read from the child's pipe by another thread.
        for line in (
            "Readiness check database:default failed: no answer within 1 s",
            "database:default failed: its previous run has not returned yet",
        ):
            child.wait_for_line(line)

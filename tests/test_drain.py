"""Drain before stop (``DRAIN``): after SIGTERM readiness fails while requests are still served.

Real servers, real signals: every web backend, with two workers where it has them. A
long drain is ended by a second SIGTERM (which starts the graceful stop at once), so the
tests wait on events, never on the clock; a short one shows the drain ends by itself.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest

from contract import BY_ID, WEB_BACKENDS, WebBackend
from django_prodserver.conf import parse_process
from django_prodserver.errors import ConfigurationError
from django_prodserver.loading import load_backend
from harness import Child, exits_cleanly, free_port, http_get, prodserver, run_manage, wait_until
from testproject import settings as testproject_settings

pytestmark = pytest.mark.usefixtures("no_platform_variables")

SETTINGS = {
    "MIDDLEWARE": ["django_prodserver.middleware.HealthCheckMiddleware", *testproject_settings.MIDDLEWARE],
    "PRODSERVER_HEALTH": {"READY_CHECKS": []},
}
GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"


def draining_web(backend: WebBackend, port: int, drain: float) -> dict[str, Any]:
    args = backend.listen_args("127.0.0.1", port)
    if backend.workers:
        args[backend.workers] = 2  # several workers (forked or spawned) must all say it
    return {"web": {"BACKEND": backend.path, "ARGS": args, "DRAIN": drain}}


def status(url: str) -> int:
    return http_get(url, timeout=10).status


def every_worker_says(child: Child, url: str, expected: int, answers: int = 12) -> None:
    """Several probes in a row, so each of several workers is asked (connections are new)."""
    seen = [status(url) for _ in range(answers)]
    if set(seen) != {expected}:
        raise child.fail(f"GET {url}: {seen}, expected only {expected}")


@pytest.mark.parametrize("backend", WEB_BACKENDS, ids=lambda b: b.id)
def test_after_sigterm_readiness_fails_while_requests_are_served(backend: WebBackend) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with prodserver("web", processes=draining_web(backend, port, 120), settings=SETTINGS) as child:
        child.wait_http(f"{base}/")
        every_worker_says(child, f"{base}/readyz/", 200)
        child.send(signal.SIGTERM)
        child.wait_for_line("prodserver: web: draining: /readyz/ answers 503 for 120 s")
        every_worker_says(child, f"{base}/readyz/", 503)
        every_worker_says(child, f"{base}/", 200)
        assert http_get(f"{base}/readyz/").json() == {"status": "draining", "checks": {}}
        # A second SIGTERM ends the drain: the graceful stop begins now.
        child.send(signal.SIGTERM)
        exits_cleanly(child)


def test_the_drain_ends_by_itself_then_the_server_stops_gracefully() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with prodserver("web", processes=draining_web(BY_ID["uvicorn"], port, 0.5), settings=SETTINGS) as child:
        child.wait_http(f"{base}/readyz/")
        child.send(signal.SIGTERM)
        exits_cleanly(child)
        assert "prodserver: web: draining: /readyz/ answers 503 for 0.5 s" in child.output


def test_a_killed_shim_still_stops_the_server() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with prodserver("web", processes=draining_web(BY_ID["gunicorn"], port, 120), settings=SETTINGS) as child:
        child.wait_http(f"{base}/")
        child.send(signal.SIGKILL)
        # The server was told to stop (die-with-parent SIGTERM), so nothing keeps the port.
        wait_until("the server stopped", lambda: _refused(base), child)


def _refused(base: str) -> bool:
    try:
        http_get(f"{base}/", timeout=2)
    except OSError:
        return True
    return False


def test_the_dry_run_shows_the_drain() -> None:
    result = run_manage(
        "prodserver", "web", "--dry-run", processes={"web": {"BACKEND": GUNICORN, "DRAIN": 10}}
    )
    assert result.returncode == 0, result.stderr
    rows = [" ".join(line.split()) for line in result.stdout.splitlines() if "(drain)" in line]
    assert rows == [
        "(drain) 10 s prodserver DRAIN: after SIGTERM /readyz/ answers 503 for 10 s, then the graceful stop"
    ]


def test_without_drain_nothing_changes() -> None:
    resolved = load_backend(parse_process("web", {"BACKEND": GUNICORN})).resolve()
    assert resolved.drain == 0
    assert not [row for row in resolved.rows if "DRAIN" in row.origin]


@pytest.mark.parametrize("value", ["10", -1, 301, True, float("nan")])
def test_a_drain_that_is_not_a_number_of_seconds_names_the_key(value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_process("web", {"BACKEND": GUNICORN, "DRAIN": value})
    assert str(info.value) == (
        f"PRODUCTION_PROCESSES['web']['DRAIN'] = {value!r} is not a number of seconds; use a number "
        "from 0 (off) to 300, e.g. 10 (a little more than your load balancer's probe period times its "
        "failure threshold)."
    )


def test_drain_on_a_worker_is_an_error() -> None:
    process = parse_process(
        "worker", {"BACKEND": "django_prodserver.backends.celery.CeleryWorker", "DRAIN": 5}
    )
    with pytest.raises(ConfigurationError) as info:
        load_backend(process).resolve()
    assert str(info.value) == (
        "Process 'worker': DRAIN applies to web servers (readiness fails while requests are still "
        "served); remove it from this worker."
    )


def test_the_supervisor_waits_out_the_drain_before_its_deadline() -> None:
    # SHUTDOWN_TIMEOUT alone (1 s) would SIGKILL the server in the middle of its 3 s drain.
    port = free_port()
    processes = draining_web(BY_ID["gunicorn"], port, 3)
    settings = {**SETTINGS, "PRODSERVER_SUPERVISOR": {"SHUTDOWN_TIMEOUT": 1}}
    processes["idle"] = {"BACKEND": "testproject.chatty.Chatty", "ARGS": []}
    with prodserver("web", "idle", processes=processes, settings=settings) as sup:
        sup.wait_http(f"http://127.0.0.1:{port}/")
        sup.send(signal.SIGTERM)
        assert sup.wait(60) == 0, sup.output
        assert "SIGKILL after 4s" in sup.output, sup.output  # SHUTDOWN_TIMEOUT + DRAIN
        assert not [line for line in sup.lines if line.endswith(": SIGKILL")], sup.output

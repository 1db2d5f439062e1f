"""``prodserver --healthcheck [NAME]`` against running and stopped servers: exit code and one line."""

from __future__ import annotations

import re

import pytest

from harness import free_port, prodserver, run_manage
from test_health import MIDDLEWARE, web

SETTINGS = {"MIDDLEWARE": MIDDLEWARE, "PRODSERVER_HEALTH": {"READY_CHECKS": []}}


@pytest.mark.parametrize("backend", ["gunicorn", "uvicorn"])
def test_exit_0_while_running_and_1_once_stopped(backend: str) -> None:
    port = free_port()
    processes = web(backend, port)
    with prodserver("web", processes=processes, settings=SETTINGS) as child:
        child.wait_http(f"http://127.0.0.1:{port}/healthz/")
        result = run_manage("prodserver", "--healthcheck", "web", processes=processes, settings=SETTINGS)
        assert result.returncode == 0, result.stderr
        assert re.fullmatch(
            rf"web: healthy: GET http://127\.0\.0\.1:{port}/healthz/ answered 200 in \d+ ms\n", result.stdout
        ), result.stdout
        assert child.stop() == 0, child.output

    result = run_manage("prodserver", "--healthcheck", processes=processes, settings=SETTINGS)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"CommandError: web: unhealthy: GET http://127.0.0.1:{port}/healthz/ failed: Connection refused.\n"
    )


def test_port_from_the_platform_contract_is_probed_on_loopback() -> None:
    """With PORT set and no address in ARGS the server binds 0.0.0.0:$PORT; the probe uses loopback."""
    port = free_port()
    with prodserver("web", processes=web("gunicorn", port), settings=SETTINGS) as child:
        child.wait_http(f"http://127.0.0.1:{port}/healthz/")
        contract = {"web": {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"}}
        result = run_manage(
            "prodserver",
            "--healthcheck",
            "web",
            processes=contract,
            settings=SETTINGS,
            env={"PORT": str(port)},
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(
            f"web: healthy: GET http://127.0.0.1:{port}/healthz/ answered 200 in "
        )


def test_a_server_without_the_probes_is_unhealthy_with_a_hint() -> None:
    port = free_port()
    processes = web("gunicorn", port)
    with prodserver("web", processes=processes) as child:
        child.wait_http(f"http://127.0.0.1:{port}/")
        result = run_manage("prodserver", "--healthcheck", "web", processes=processes)
    assert result.returncode == 1
    assert result.stderr == (
        f"CommandError: web: unhealthy: GET http://127.0.0.1:{port}/healthz/ answered 404; "
        "is 'django_prodserver.middleware.HealthCheckMiddleware' first in MIDDLEWARE?\n"
    )


def test_a_process_that_is_not_a_web_server_is_refused() -> None:
    processes = {"worker": {"BACKEND": "testproject.probes.NotAWebServer"}}
    result = run_manage("prodserver", "--healthcheck", "worker", processes=processes)
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: worker: --healthcheck probes web server processes, and 'worker' is not one; "
        "name the web process, e.g. 'prodserver --healthcheck web'.\n"
    )

"""WARMUP: URLs requested in-process before the server accepts traffic.

Success is seen from outside: ``/warm/`` counts its hits per process, and the first request
from outside finds the count at 1 in the worker, so the warm-up ran once, before the fork.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from harness import DATABASE_URL, free_port, http_get, prodserver, run_manage
from in_process import command_error
from test_health import database, web

SETTINGS = {"ROOT_URLCONF": "testproject.probes"}


@pytest.mark.parametrize("backend", ["gunicorn", "uvicorn", "granian"])
def test_warm_up_runs_once_before_the_first_request(backend: str) -> None:
    port = free_port()
    processes = web(backend, port, WARMUP=["/warm/", "/warm/count/?probe=1"])
    with prodserver("web", processes=processes, settings=SETTINGS) as child:
        count = child.wait_http(f"http://127.0.0.1:{port}/warm/count/")
        assert count.json()["hits"] == 1, child.output
        assert http_get(f"http://127.0.0.1:{port}/warm/count/").json()["hits"] == 1
        assert child.wait_for_line("warm-up GET /warm/ answered 200 in ").startswith(
            "prodserver: web: warm-up GET /warm/ answered 200 in "
        )
        child.wait_for_line("warm-up GET /warm/count/?probe=1 answered 200")


def _connections(application_name: str) -> int:
    import psycopg

    with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://")) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_warm_up_closes_its_database_connections_before_the_fork() -> None:
    """CONN_MAX_AGE would keep the warm-up's connection open, to be shared by forked workers."""
    port = free_port()
    name = f"prodserver-warmup-{uuid.uuid4().hex[:12]}"
    db = database(DATABASE_URL)
    db["CONN_MAX_AGE"] = 600
    db["OPTIONS"]["application_name"] = name
    settings = {**SETTINGS, "DATABASES": {"default": db}}
    with prodserver("web", processes=web("gunicorn", port, WARMUP=["/warm/db/"]), settings=settings) as child:
        child.wait_http(f"http://127.0.0.1:{port}/warm/count/")
        child.wait_for_line("warm-up GET /warm/db/ answered 200")
        assert _connections(name) == 0, child.output
        # The same view from outside does open one (kept by CONN_MAX_AGE): the count can move.
        assert http_get(f"http://127.0.0.1:{port}/warm/db/").status == 200
        assert _connections(name) == 1, child.output


def _start_failing(warmup: Any, **settings: Any) -> tuple[int, str, str]:
    port = free_port()
    result = run_manage(
        "prodserver", "web", processes=web("gunicorn", port, WARMUP=warmup), settings={**SETTINGS, **settings}
    )
    return result.returncode, result.stderr, result.stdout


def test_an_exception_stops_the_start_with_its_traceback_and_one_line() -> None:
    code, stderr, _ = _start_failing(["/warm/", "/warm/boom/"])
    assert code == 1
    lines = stderr.rstrip("\n").splitlines()
    assert lines[-1] == (
        "CommandError: Process 'web': warm-up request GET /warm/boom/ raised ZeroDivisionError: "
        "warm-up found a broken view; fix the view or remove '/warm/boom/' from "
        "PRODUCTION_PROCESSES['web']['WARMUP']."
    )
    assert "Traceback (most recent call last):" in stderr
    assert 'raise ZeroDivisionError("warm-up found a broken view")' in stderr
    assert "Booting worker" not in stderr  # the server never started


def test_a_non_2xx_answer_stops_the_start() -> None:
    code, stderr, _ = _start_failing({"URLS": ["/no/such/page/"]})
    assert code == 1
    assert stderr.splitlines()[-1] == (
        "CommandError: Process 'web': warm-up request GET /no/such/page/ answered 404; "
        "fix the view or the URL in PRODUCTION_PROCESSES['web']['WARMUP']."
    )


def test_a_host_outside_allowed_hosts_is_named() -> None:
    code, stderr, _ = _start_failing({"URLS": ["/warm/"], "HOST": "www.example.com"})
    assert code == 1
    assert stderr.splitlines()[-1] == (
        "CommandError: Process 'web': warm-up request GET /warm/ answered 400 (Host 'www.example.com': "
        "add it to ALLOWED_HOSTS or set PRODUCTION_PROCESSES['web']['WARMUP']['HOST']); "
        "fix the view or the URL in PRODUCTION_PROCESSES['web']['WARMUP']."
    )


def test_ssl_redirect_does_not_turn_warm_up_into_redirects() -> None:
    port = free_port()
    settings = {**SETTINGS, "SECURE_SSL_REDIRECT": True}
    with prodserver("web", processes=web("gunicorn", port, WARMUP=["/warm/"]), settings=settings) as child:
        child.wait_for_line("warm-up GET /warm/ answered 200")


def test_on_error_warn_starts_anyway() -> None:
    port = free_port()
    processes = web("gunicorn", port, WARMUP={"URLS": ["/warm/boom/", "/warm/"], "ON_ERROR": "warn"})
    with prodserver("web", processes=processes, settings=SETTINGS) as child:
        assert child.wait_http(f"http://127.0.0.1:{port}/warm/count/").json()["hits"] == 1
        line = child.wait_for_line("prodserver: warning:")
        assert line == (
            "prodserver: warning: Process 'web': warm-up request GET /warm/boom/ raised ZeroDivisionError: "
            "warm-up found a broken view; fix the view or remove '/warm/boom/' from "
            "PRODUCTION_PROCESSES['web']['WARMUP']."
        )


WHERE = "PRODUCTION_PROCESSES['web']['WARMUP']"


@pytest.mark.parametrize(
    ("warmup", "message"),
    [
        ("/", f"{WHERE} must be a list of URL paths such as ['/'] (or a dict with 'URLS'), not str."),
        ([], f"{WHERE}['URLS'] must be a non-empty list of URL paths such as ['/']."),
        (
            ["warm/"],
            f"{WHERE}: 'warm/' is not a URL path; write it as the path the server answers, e.g. '/'.",
        ),
        (
            {"URLS": ["/"], "ON_ERROR": "ignore"},
            f"{WHERE}['ON_ERROR'] = 'ignore' is not a policy; use 'stop' or 'warn'.",
        ),
        ({"URL": ["/"]}, f"{WHERE} has unknown key 'URL'; use 'HOST', 'ON_ERROR', 'URLS'."),
        ({"URLS": ["/"], "HOST": ""}, f"{WHERE}['HOST'] must be a host name such as 'example.com'."),
    ],
)
@pytest.mark.usefixtures("django_project", "no_platform_variables")
def test_bad_warmup_setting_is_one_line(warmup: Any, message: str) -> None:
    # In this process; the exit status and bare stderr of such an error are test_errors.py's.
    processes = web("gunicorn", free_port(), WARMUP=warmup)
    assert command_error("web", processes=processes, settings=SETTINGS) == message

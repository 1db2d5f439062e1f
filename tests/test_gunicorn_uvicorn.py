"""Gunicorn serving ASGI: GunicornUvicornServer, and GunicornServer given an ASGI worker class.

A Procfile line such as ``gunicorn config.asgi:application -k uvicorn_worker.UvicornWorker``
moved into PRODUCTION_PROCESSES keeps its worker class in ARGS; the process must then serve
the ASGI application (Django's WSGI handler under an ASGI worker answers 500 to everything).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from gunicorn.workers import SUPPORTED_WORKERS

from django_prodserver.platform import default_workers
from harness import TESTS_DIR, free_port, prodserver, run_manage
from live_checks import page, sigterm_with_request_in_flight, streamed_lines, websocket_echo

pytestmark = pytest.mark.lowest  # also run by scripts/test-lowest

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
GUNICORN_UVICORN = "django_prodserver.backends.gunicorn.GunicornUvicornServer"
#: gunicorn's own ASGI worker (``-k asgi``) exists only in recent releases (27 has it, 21.2 not).
own_asgi_worker = pytest.mark.skipif("asgi" not in SUPPORTED_WORKERS, reason="this gunicorn has no -k asgi")


def web(backend: str, args: Any = None, **entry: Any) -> dict[str, Any]:
    return {"web": {"BACKEND": backend, "ARGS": {} if args is None else args, **entry}}


def command(backend: str, args: Any = None, env: dict[str, str] | None = None) -> str:
    result = run_manage("prodserver", "web", "--dry-run", processes=web(backend, args), env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[0]


def test_gunicorn_uvicorn_serves_asgi_websockets_and_stops_gracefully() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with prodserver(
        "web", processes=web(GUNICORN_UVICORN, {"bind": f"127.0.0.1:{port}", "workers": 1})
    ) as child:
        child.wait_http(f"{base}/")
        page(child, f"{base}/async/", body="async hello")
        streamed_lines(child, f"{base}/stream/")
        websocket_echo(child, f"ws://127.0.0.1:{port}/ws/echo/")
        sigterm_with_request_in_flight(child, base)


@pytest.mark.parametrize(
    "worker_class",
    [
        "uvicorn_worker.UvicornWorker",
        "uvicorn.workers.UvicornWorker",
        pytest.param("asgi", marks=own_asgi_worker),
    ],
)
def test_an_asgi_worker_class_in_args_serves_the_asgi_app(worker_class: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = {"bind": f"127.0.0.1:{port}", "workers": 1, "worker-class": worker_class}
    with prodserver("web", processes=web(GUNICORN, args)) as child:
        child.wait_http(f"{base}/")
        page(child, f"{base}/async/", body="async hello")
        websocket_echo(child, f"ws://127.0.0.1:{port}/ws/echo/")


@own_asgi_worker
def test_the_app_and_worker_count_follow_the_worker_class() -> None:
    asgi_workers, _ = default_workers("async")
    sync_workers, _ = default_workers("sync")
    assert command(GUNICORN_UVICORN).endswith(
        f"--workers={asgi_workers} --worker-class=uvicorn_worker.UvicornWorker django_prodserver.gateway:asgi"
    )
    assert command(GUNICORN, {"worker-class": "asgi"}).endswith(
        f"--workers={asgi_workers} --worker-class=asgi django_prodserver.gateway:asgi"
    )
    # A WSGI worker class given to GunicornUvicornServer serves the WSGI app.
    assert command(GUNICORN_UVICORN, {"worker-class": "gthread"}).endswith(
        f"--workers={sync_workers} --worker-class=gthread django_prodserver.gateway:wsgi"
    )
    # Raw ARGS (a Procfile line's options), and gunicorn's own GUNICORN_CMD_ARGS.
    assert command(GUNICORN, "-k uvicorn_worker.UvicornWorker") == (
        "DJANGO_PRODSERVER_APP=testproject.asgi:application "
        "gunicorn -k uvicorn_worker.UvicornWorker django_prodserver.gateway:asgi"
    )
    assert command(GUNICORN, env={"GUNICORN_CMD_ARGS": "--worker-class asgi"}).endswith(
        "django_prodserver.gateway:asgi"
    )


def test_a_projects_own_uvicorn_worker_subclass_is_asgi(tmp_path: Path) -> None:
    (tmp_path / "shopworkers.py").write_text(
        "from uvicorn_worker import UvicornWorker\n\n\n"
        "class Worker(UvicornWorker):\n"
        '    CONFIG_KWARGS = {"loop": "asyncio", "http": "h11"}\n'
    )
    # The PYTHONPATH of the run comes last: a checkout's src/ keeps shadowing the installed copy.
    env = {
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(tmp_path), str(TESTS_DIR), os.environ.get("PYTHONPATH")])
        )
    }
    assert command(GUNICORN, {"worker-class": "shopworkers.Worker"}, env=env).endswith(
        "--worker-class=shopworkers.Worker django_prodserver.gateway:asgi"
    )


def test_a_worker_class_that_does_not_load_is_one_line() -> None:
    result = run_manage(
        "prodserver", "web", processes=web(GUNICORN, {"worker-class": "shop.workers.Fast"}), timeout=30
    )
    assert (result.returncode, result.stderr) == (
        1,
        "CommandError: Process 'web': gunicorn worker class 'shop.workers.Fast' cannot be loaded "
        "(ModuleNotFoundError: No module named 'shop'); give gunicorn's name or the dotted path of "
        "the class.\n",
    )


def test_a_missing_uvicorn_worker_names_the_extra() -> None:
    pythonpath = os.pathsep.join([str(TESTS_DIR / "shims" / "without_uvicorn_worker"), str(TESTS_DIR)])
    for backend, args in (
        (GUNICORN_UVICORN, {}),
        (GUNICORN, {"worker-class": "uvicorn_worker.UvicornWorker"}),
    ):
        result = run_manage("prodserver", "web", processes=web(backend, args), env={"PYTHONPATH": pythonpath})
        expected = (
            "Process 'web' uses GunicornUvicornServer, but uvicorn-worker is not installed: "
            "pip install 'django-prodserver[uvicorn-worker]'"
            if backend == GUNICORN_UVICORN
            else "Process 'web': gunicorn worker class 'uvicorn_worker.UvicornWorker' cannot be loaded "
            "(ModuleNotFoundError: No module named 'uvicorn_worker'); pip install "
            "'django-prodserver[uvicorn-worker]'."
        )
        assert (result.returncode, result.stderr) == (1, f"CommandError: {expected}\n")

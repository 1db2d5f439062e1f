"""Settings written for django-prodserver 3.x run unchanged: its commands, paths and base classes.

``manage.py server`` runs web processes and ``manage.py worker`` workers, each taking every
option ``prodserver`` takes; the 3.x module paths name the same classes; a custom
``BaseWorkerBackend`` runs under ``worker``. Everything runs the real ``manage.py``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness import REDIS_URL, TESTS_DIR, Child, child_env, free_port, run_manage
from worker_support import (
    STOP_AFTER_A_TASK,
    celery_delete_queue,
    celery_processes,
    celery_send,
    q2_settings,
    shell,
    stop_group,
    tasks_settings,
    unique,
    wait_for_file,
)

GUNICORN_3X = "django_prodserver.backends.servers.gunicorn.GunicornServer"
WORKER_3X = "testproject.custom_workers.Mailer"
MIXED = {
    "web": {"BACKEND": GUNICORN_3X},
    "mail": {"BACKEND": WORKER_3X, "ARGS": {"queue": "mail", "concurrency": 2}},
    "site": {"BACKEND": "django_prodserver.backends.servers.waitress.WaitressServer"},
    "jobs": {"BACKEND": "testproject.custom_workers.Strict"},
}


@pytest.mark.parametrize(
    ("path", "flat"),
    [
        ("servers.gunicorn.GunicornServer", "gunicorn.GunicornServer"),
        ("servers.gunicorn.GunicornUvicornServer", "gunicorn.GunicornUvicornServer"),
        ("servers.uvicorn.UvicornServer", "uvicorn.UvicornServer"),
        ("servers.uvicorn.UvicornWSGIServer", "uvicorn.UvicornWSGIServer"),
        ("servers.granian.GranianASGIServer", "granian.GranianASGIServer"),
        ("servers.granian.GranianWSGIServer", "granian.GranianWSGIServer"),
        ("servers.waitress.WaitressServer", "waitress.WaitressServer"),
        ("servers.flower.CeleryFlower", "celery.CeleryFlower"),
        ("workers.celery.CeleryWorker", "celery.CeleryWorker"),
        ("workers.celery.CeleryBeat", "celery.CeleryBeat"),
        ("workers.django_tasks.DjangoTasksWorker", "django_tasks.DjangoTasksWorker"),
        ("workers.django_q2.DjangoQ2Worker", "django_q2.DjangoQ2Worker"),
        ("workers.base.BaseWorkerBackend", "base.BaseWorkerBackend"),
    ],
)
def test_the_3x_paths_name_the_same_classes(path: str, flat: str) -> None:
    def load(dotted: str) -> Any:
        module, _, name = f"django_prodserver.backends.{dotted}".rpartition(".")
        return getattr(importlib.import_module(module), name)

    assert load(path) is load(flat)


@pytest.mark.parametrize(
    ("backend", "kind"),
    [
        ("gunicorn.GunicornServer", "server"),
        ("celery.CeleryFlower", "server"),
        ("dev.django_runserver.DjangoRunserver", "server"),
        ("celery.CeleryWorker", "worker"),
        ("celery.CeleryBeat", "worker"),
        ("django_tasks.DjangoTasksWorker", "worker"),
        ("django_q2.DjangoQ2Worker", "worker"),
        ("command.ManagementCommand", "worker"),
    ],
)
def test_our_backends_sit_in_their_kind(backend: str, kind: str) -> None:
    module, _, name = f"django_prodserver.backends.{backend}".rpartition(".")
    assert getattr(importlib.import_module(module), name).kind == kind


def test_each_command_lists_only_its_kind() -> None:
    def listed(command: str) -> list[str]:
        result = run_manage(command, "--list", processes=MIXED)
        assert result.returncode == 0, result.stderr
        return [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")]

    assert listed("server") == ["web", "site"]
    assert listed("worker") == ["mail", "jobs"]
    assert listed("prodserver") == ["web", "mail", "site", "jobs"]


@pytest.mark.parametrize(
    ("command", "name", "message"),
    [
        (
            "server",
            "mail",
            "Process 'mail' is a worker, not a web server: start it with 'manage.py worker mail'.",
        ),
        (
            "worker",
            "web",
            "Process 'web' is a web server, not a worker: start it with 'manage.py server web'.",
        ),
    ],
)
def test_asking_for_the_other_kind_names_the_right_command(command: str, name: str, message: str) -> None:
    for options in ([], ["--dry-run"], ["--check"]):
        result = run_manage(command, name, *options, processes=MIXED)
        assert (result.returncode, result.stdout, result.stderr) == (1, "", f"CommandError: {message}\n")


@pytest.mark.parametrize(
    ("command", "name", "message"),
    [
        (
            "worker",
            "web",
            "No worker in PRODUCTION_PROCESSES (configured: 'web'); 'manage.py server' starts a web server.",
        ),
        (
            "server",
            "mail",
            "No web server in PRODUCTION_PROCESSES (configured: 'mail'); 'manage.py worker' starts a worker.",
        ),
    ],
)
def test_no_process_of_the_kind(command: str, name: str, message: str) -> None:
    result = run_manage(command, processes={name: MIXED[name]})
    assert (result.returncode, result.stderr) == (1, f"CommandError: {message}\n")


def test_a_custom_worker_runs_under_worker_with_its_args() -> None:
    # The first worker by default, its ARGS as --key=value, options after the name appended.
    result = run_manage("worker", processes=MIXED)
    assert (result.returncode, result.stdout) == (0, "mailer started with --queue=mail --concurrency=2\n")
    result = run_manage("worker", "mail", "--loglevel=debug", processes=MIXED)
    assert result.stdout == "mailer started with --queue=mail --concurrency=2 --loglevel=debug\n"


def test_3x_prep_server_args_gets_the_command_line_options() -> None:
    processes = {"fwd": {"BACKEND": "testproject.custom_workers.Forwarding", "ARGS": {"a": 1}}}
    result = run_manage("worker", "fwd", "--b=2", processes=processes)
    assert (result.returncode, result.stdout) == (
        0,
        "mailer started with --from-settings --a=1 --from-command-line --b=2\n",
    )


def test_accepts_extra_args_false_refuses_command_line_options() -> None:
    result = run_manage("worker", "jobs", "--loglevel=debug", processes=MIXED)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "CommandError: Process 'jobs': Strict takes no options on the command line (--loglevel=debug); "
        "set them in PRODUCTION_PROCESSES['jobs']['ARGS'].\n",
    )


def test_both_commands_take_prodservers_options() -> None:
    result = run_manage("server", "--dry-run", processes=MIXED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(
        "DJANGO_PRODSERVER_APP=testproject.wsgi:application gunicorn --keep-alive=75 "
    )
    result = run_manage("server", "site", "--check", processes=MIXED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "site: DJANGO_PRODSERVER_APP=testproject.wsgi:application waitress-serve "
        "django_prodserver.gateway:wsgi"
    )
    assert run_manage("worker", "--dry-run", processes=MIXED).stdout.splitlines()[0] == (
        "Mailer --queue=mail --concurrency=2"
    )


# ----- a settings module written only with 3.x paths, run as 3.x users run it ------------------


def serve(command: str, entry: dict[str, Any], port: int) -> None:
    child = Child([command, "web"], child_env({"web": entry}))
    try:
        response = child.wait_http(f"http://127.0.0.1:{port}/")
        assert (response.status, response.text) == (200, "hello from testproject"), child.output
    finally:
        child.kill_group()


SERVERS: dict[str, tuple[str, Callable[[int], dict[str, Any]]]] = {
    "gunicorn": (GUNICORN_3X, lambda port: {"bind": f"127.0.0.1:{port}", "workers": 1}),
    "uvicorn": (
        "django_prodserver.backends.servers.uvicorn.UvicornServer",
        lambda port: {"host": "127.0.0.1", "port": port},
    ),
    "granian": (
        "django_prodserver.backends.servers.granian.GranianWSGIServer",
        lambda port: {"address": "127.0.0.1", "port": port, "workers": 1},
    ),
    "waitress": (
        "django_prodserver.backends.servers.waitress.WaitressServer",
        lambda port: {"host": "127.0.0.1", "port": port},
    ),
}


@pytest.mark.parametrize("program", list(SERVERS))
def test_server_runs_the_3x_web_servers(program: str) -> None:
    backend, args = SERVERS[program]
    port = free_port()
    serve("server", {"BACKEND": backend, "ARGS": args(port)}, port)


def test_django_runserver_serves_a_page_with_noreload() -> None:
    port = free_port()
    entry = {
        "BACKEND": "django_prodserver.backends.dev.django_runserver.DjangoRunserver",
        "ARGS": {"addrport": f"127.0.0.1:{port}", "noreload": True},
    }
    serve("server", entry, port)


@pytest.mark.lowest  # the werkzeug extra's lower bounds, in scripts/test-lowest
def test_runserver_plus_serves_a_page() -> None:
    # With Werkzeug's reloader: runserver_plus 4.1's --noreload fails on Werkzeug 3
    # (KeyError 'WERKZEUG_SERVER_FD'), with or without prodserver.
    port = free_port()
    entry = {
        "BACKEND": "django_prodserver.backends.dev.werkzeug.RunserverPlus",
        "ARGS": {"addrport": f"127.0.0.1:{port}", "nopin": True},
    }
    serve("server", entry, port)


def test_daphne_runserver_serves_a_page() -> None:
    port = free_port()
    entry = {
        "BACKEND": "django_prodserver.backends.dev.daphne.DaphneRunserver",
        "ARGS": {"addrport": f"127.0.0.1:{port}", "noreload": True},
    }
    child = Child(
        ["server", "web"], child_env({"web": entry}, {"ASGI_APPLICATION": "testproject.asgi.application"})
    )
    try:
        response = child.wait_http(f"http://127.0.0.1:{port}/")
        assert (response.status, response.text) == (200, "hello from testproject"), child.output
    finally:
        child.kill_group()


def test_worker_runs_django_tasks_from_its_3x_path(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite3")
    settings = tasks_settings()
    migrated = run_manage("migrate", "--noinput", db=db, settings=settings)
    assert migrated.returncode == 0, migrated.stderr
    entry = {
        "BACKEND": "django_prodserver.backends.workers.django_tasks.DjangoTasksWorker",
        "ARGS": {"interval": 0.1, "startup-delay": False},
    }
    done = tmp_path / "done"
    child = Child(["worker"], child_env({"tasks": entry}, settings, db=db))
    try:
        child.wait_for_line("Starting worker")
        code = f"from testproject.tasks import *; tasks_touch.enqueue({str(done)!r})"
        shell(code, db=db, settings=settings)
        assert wait_for_file(done, child).startswith("done by pid")
        assert stop_group(child) == 0, child.output
    finally:
        child.kill_group()


def test_worker_runs_django_q2_from_its_3x_path(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite3")
    settings = q2_settings(orm="default")
    migrated = run_manage("migrate", "--noinput", db=db, settings=settings)
    assert migrated.returncode == 0, migrated.stderr
    entry = {"BACKEND": "django_prodserver.backends.workers.django_q2.DjangoQ2Worker"}
    done = tmp_path / "done"
    child = Child(["worker", "q"], child_env({"q": entry}, settings, db=db))
    try:
        child.wait_for_line("running.")
        code = f"from django_q.tasks import async_task; async_task('testproject.tasks.touch', {str(done)!r})"
        shell(code, db=db, settings=settings)
        assert wait_for_file(done, child).startswith("done by pid")
    finally:
        child.kill_group()


def test_worker_runs_a_celery_worker_from_its_3x_path(tmp_path: Path) -> None:
    # The soft shutdown re-executes the worker with REMAP_SIGTERM set: under 'manage.py worker'
    # as under 'prodserver'.
    queue = unique("compat")
    entry = dict(celery_processes(queue)["worker"])
    entry["BACKEND"] = "django_prodserver.backends.workers.celery.CeleryWorker"
    env = child_env({"celery": entry}, {"CELERY_TASK_DEFAULT_QUEUE": queue}, {"CELERY_BROKER_URL": REDIS_URL})
    child = Child(["worker", "celery"], env)
    try:
        child.wait_for_line(" ready.")
        celery_send(REDIS_URL, "testproject.touch", str(tmp_path / "done"), queue=queue)
        assert wait_for_file(tmp_path / "done", child).startswith("done by pid")
        assert stop_group(child, timeout=STOP_AFTER_A_TASK) == 0, child.output
    finally:
        child.kill_group()
        celery_delete_queue(REDIS_URL, queue)


# ----- development backends ---------------------------------------------------------------------

RUNSERVER = "django_prodserver.backends.dev.django_runserver.DjangoRunserver"


def test_a_development_backend_is_a_deploy_warning_only() -> None:
    processes = {"dev": {"BACKEND": RUNSERVER, "ARGS": {"addrport": "8123"}}}
    assert run_manage("check", processes=processes).returncode == 0
    result = run_manage("check", "--deploy", "--fail-level=WARNING", processes=processes)
    assert result.returncode == 1
    assert (
        "?: (prodserver.W005) Process 'dev' runs DjangoRunserver, a development server: it is neither "
        "secure nor fast enough for production.\n"
    ) in result.stderr


def test_runserver_args_are_checked_by_runservers_parser() -> None:
    processes = {"dev": {"BACKEND": RUNSERVER, "ARGS": {"reload": True}}}
    result = run_manage("server", "dev", processes=processes)
    assert (result.returncode, result.stderr) == (
        1,
        "CommandError: Process 'dev': PRODUCTION_PROCESSES['dev']['ARGS'] is rejected by runserver: "
        "unrecognized arguments: --reload=True\n",
    )


def test_daphne_runserver_without_asgi_application_is_one_line() -> None:
    processes = {"dev": {"BACKEND": "django_prodserver.backends.dev.daphne.DaphneRunserver"}}
    result = run_manage("server", "dev", processes=processes, settings={"ASGI_APPLICATION": None})
    assert (result.returncode, result.stderr) == (
        1,
        "CommandError: Process 'dev': DaphneRunserver serves ASGI_APPLICATION, which is not set; "
        "set it to your application, e.g. 'mysite.asgi.application'.\n",
    )


def test_werkzeug_without_django_extensions_is_one_line() -> None:
    # tests/shims/without_django_extensions/ first on the path: the import fails as when absent.
    shim = TESTS_DIR / "shims" / "without_django_extensions"
    pythonpath = os.pathsep.join(filter(None, [str(shim), str(TESTS_DIR), os.environ.get("PYTHONPATH")]))
    processes = {"dev": {"BACKEND": "django_prodserver.backends.dev.werkzeug.RunserverPlus"}}
    result = run_manage("server", "dev", processes=processes, env={"PYTHONPATH": pythonpath})
    assert (result.returncode, result.stderr) == (
        1,
        "CommandError: Process 'dev' uses RunserverPlus, but django-extensions is not installed: "
        "pip install 'django-prodserver[werkzeug]'\n",
    )


def test_export_under_each_command_writes_its_kind() -> None:
    def exported(command: str) -> list[str]:
        result = run_manage(command, "--export", "procfile", processes=MIXED)
        assert result.returncode == 0, result.stderr
        return [line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith("#")]

    assert exported("server") == ["web", "site"]
    assert exported("worker") == ["mail", "jobs"]


def test_worker_with_no_name_passes_over_a_release_step() -> None:
    release = {"BACKEND": "django_prodserver.backends.command.ManagementCommand", "ONESHOT": True}
    processes = {"release": {**release, "ARGS": ["migrate", "--noinput"]}, "mail": MIXED["mail"]}
    result = run_manage("worker", "--dry-run", processes=processes)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Mailer --queue=mail --concurrency=2"

"""The Django Tasks database worker through ``manage.py prodserver``, on SQLite and PostgreSQL.

A task is enqueued from ``manage.py shell`` with the same settings (as a view would), the
worker runs it, and the file it writes proves it; then SIGTERM arrives while a slow task
runs, and the task still finishes before the worker exits 0.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from harness import DATABASE_URL, prodserver, run_manage
from worker_support import DJANGO_TASKS, release, shell, signal_group, tasks_settings, unique, wait_for_file

pytestmark = pytest.mark.lowest_workers  # also run by scripts/test-lowest

PROCESSES = {"worker": {"BACKEND": DJANGO_TASKS, "ARGS": {"interval": 0.1, "startup-delay": False}}}


def migrate(db: str) -> str:
    result = run_manage("migrate", "--noinput", db=db, settings=tasks_settings())
    assert result.returncode == 0, result.stdout + result.stderr
    return db


@pytest.fixture(scope="module")
def sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    return migrate(str(tmp_path_factory.mktemp("tasks") / "db.sqlite3"))


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A fresh PostgreSQL database for this module, dropped afterwards."""
    import psycopg

    name = unique("prodserver_tasks")
    with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield migrate(urlunparse(urlparse(DATABASE_URL)._replace(path=f"/{name}")))
    finally:
        with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


def enqueue(db: str, call: str) -> str:
    """Enqueue ``call`` (e.g. ``tasks_touch.enqueue('/tmp/x')``) and return the task id."""
    return shell(f"from testproject.tasks import *; print({call}.id)", db=db, settings=tasks_settings())


def test_the_worker_runs_a_task_and_finishes_it_on_sigterm(db: str, tmp_path: Path) -> None:
    done, slow = tmp_path / "done", tmp_path / "slow"
    with prodserver("worker", processes=PROCESSES, settings=tasks_settings(), db=db) as child:
        child.wait_for_line("Starting worker")
        enqueue(db, f"tasks_touch.enqueue({str(done)!r})")
        assert wait_for_file(done, child).startswith("done by pid")
        task_id = enqueue(db, f"tasks_held_touch.enqueue({str(slow)!r})")
        wait_for_file(Path(f"{slow}.started"), child)
        signal_group(child)
        # Still running when the worker takes the signal; it finishes before the worker exits.
        child.wait_for_line("shutting down gracefully")
        release(slow)
        assert child.wait() == 0, child.output
        assert slow.exists(), child.output
    # Asked of the database: on Django 6 db_worker's task lines go to the "django.tasks" logger,
    # which Django's own logging shows only with DEBUG on.
    query = f"DBTaskResult.objects.get(id={task_id!r}).status"
    status = shell(
        f"from django_tasks_db.models import DBTaskResult; print({query})", db=db, settings=tasks_settings()
    )
    assert status == "SUCCESSFUL", child.output


def test_queue_names_from_a_list(sqlite: str, tmp_path: Path) -> None:
    # ARGS 'queue-name' as a list becomes db_worker's comma-separated --queue-name.
    done = tmp_path / "done"
    queue = unique("q")
    processes = {
        "worker": {"BACKEND": DJANGO_TASKS, "ARGS": {"interval": 0.1, "queue-name": ["default", queue]}}
    }
    settings = tasks_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}})
    with prodserver("worker", processes=processes, settings=settings, db=sqlite) as child:
        child.wait_for_line(f"queues=default,{queue}")
        code = f"tasks_touch.using(queue_name={queue!r}).enqueue({str(done)!r})"
        shell(f"from testproject.tasks import tasks_touch; {code}", db=sqlite, settings=settings)
        wait_for_file(done, child)
        child.send(signal.SIGTERM)
        assert child.wait() == 0, child.output


def test_dry_run_turns_off_the_reloader() -> None:
    # db_worker reloads on code changes when DEBUG is on; a production worker never does.
    result = run_manage(
        "prodserver", "worker", "--dry-run", processes=PROCESSES, settings=tasks_settings(DEBUG=True)
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.splitlines()[0]
        == "python manage.py db_worker --no-reload --interval=0.1 --no-startup-delay"
    )

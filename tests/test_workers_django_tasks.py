"""The Django Tasks database worker through ``manage.py prodserver``, on SQLite and PostgreSQL.

A task is enqueued from ``manage.py shell`` with the same settings (as a view would), the
worker runs it, and the file it writes proves it; then SIGTERM arrives while a slow task
runs, and the task still finishes before the worker exits 0.
"""

from __future__ import annotations

import re
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from harness import DATABASE_URL, free_port, http_get, prodserver, run_manage
from worker_support import DJANGO_TASKS, shell, stop_group, tasks_settings, unique, wait_for_file

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
        task_id = enqueue(db, f"tasks_slow_touch.enqueue(2, {str(slow)!r})")
        wait_for_file(Path(f"{slow}.started"), child)
        assert stop_group(child) == 0, child.output
        assert slow.exists(), child.output
        assert f"Task id={task_id} path=testproject.tasks.tasks_slow_touch state=SUCCESSFUL" in child.output


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


# ----- the example project's task page and worker (the same code, tested here) ---------------

#: The 'worker' entry the example project's PRODUCTION_PROCESSES uses.
DEMO_WORKER = {
    "BACKEND": "django_prodserver.backends.django_tasks.DjangoTasksWorker",
    "ARGS": {"queue-name": "default", "interval": 0.5},
}


def post_form(url: str, page: str, set_cookie: str) -> tuple[int, str]:
    """Submit the page's form the way a browser does: CSRF cookie plus the hidden token."""
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1)}).encode(),
        headers={"Cookie": set_cookie.split(";", maxsplit=1)[0], "Referer": url},
    )

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    try:
        with urllib.request.build_opener(Keep).open(request, timeout=10) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers.get("Location", "")


def test_the_demo_page_enqueues_and_the_worker_runs_it(sqlite: str) -> None:
    port = free_port()
    processes = {
        "web": {
            "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
            "ARGS": {"bind": f"127.0.0.1:{port}", "workers": 1},
        },
        "worker": DEMO_WORKER,
    }
    settings = tasks_settings(ROOT_URLCONF="testproject.demo_urls")
    with prodserver("web", "worker", processes=processes, settings=settings, db=sqlite) as both:
        url = f"http://127.0.0.1:{port}/receipts/"
        form = both.wait_http(url)
        assert form.status == 200, form.text
        status, location = post_form(url, form.text, form.headers["Set-Cookie"])
        assert status == 302, location
        deadline = time.monotonic() + 30
        page = http_get(url + location)
        while "SUCCESSFUL" not in page.text and time.monotonic() < deadline:
            assert page.status == 200, page.text
            assert '<meta http-equiv="refresh" content="1">' in page.text
            time.sleep(0.2)
            page = http_get(url + location)
        assert "<p>SUCCESSFUL: Receipt for order " in page.text, both.output
        assert ", made by worker pid " in page.text
        assert both.stop() == 0, both.output

"""Every way a worker process can be misconfigured, and the whole message ``manage.py prodserver`` prints.

A message is one line naming the process and the setting and saying how to fix it. What the
checks find is asserted in this process (``call_command`` with checks on, under
``override_settings``); one real ``manage.py`` subprocess per kind of error keeps exit status 1
and a stderr of the message alone, and the cases that need a process anyway run in one: a
package missing from the path, a broker or database found unreachable just before the start.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness import TESTS_DIR, free_port, run_manage
from in_process import command_error
from worker_support import (
    CELERY_APP,
    CELERY_FLOWER,
    CELERY_WORKER,
    DJANGO_Q2,
    DJANGO_TASKS,
    installed_apps,
    q2_settings,
    tasks_settings,
)

# lowest_workers: also run by scripts/test-lowest, where the libraries' APIs the checks call are oldest.
pytestmark = [pytest.mark.lowest_workers, pytest.mark.usefixtures("django_project")]


def fails(name: str, processes: dict[str, Any], **env_kw: Any) -> subprocess.CompletedProcess[str]:
    result = run_manage("prodserver", name, timeout=30, processes=processes, **env_kw)
    assert result.returncode != 0, f"exit 0\n{result.stdout}\n{result.stderr}"
    return result


def assert_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.stderr == f"CommandError: {message}\n"
    assert result.returncode == 1


def error(name: str, processes: dict[str, Any], settings: dict[str, Any] | None = None) -> str:
    return command_error(name, processes=processes, settings=settings)


def without(module: str) -> dict[str, str]:
    """Environment in which importing ``module`` fails as if it were not installed."""
    shim = TESTS_DIR / "shims" / f"without_{module}"
    return {"PYTHONPATH": os.pathsep.join([str(shim), str(TESTS_DIR)])}


def celery(backend: str = CELERY_WORKER, **entry: Any) -> dict[str, Any]:
    return {"worker": {"BACKEND": backend, "APP": CELERY_APP, **entry}}


def flower(**entry: Any) -> dict[str, Any]:
    return {"flower": {"BACKEND": CELERY_FLOWER, "APP": CELERY_APP, **entry}}


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    return free_port()


# ----- what only a process shows: exit status 1, one line, no traceback ------------------------


@pytest.mark.parametrize(
    ("name", "processes", "message"),
    [
        (
            "worker",
            {"worker": {"BACKEND": CELERY_WORKER}},
            "Process 'worker' needs 'APP', the import path of your Celery app, e.g. 'APP': "
            "'config.celery.app'.",
        ),
        (
            "worker",
            {"worker": {"BACKEND": CELERY_WORKER, "APP": "testproject.nosuch.app"}},
            "Process 'worker': APP 'testproject.nosuch.app' cannot be imported (no module named "
            "'testproject.nosuch'); set it to the import path of your Celery app, e.g. 'config.celery.app'.",
        ),
        (
            "flower",
            {"flower": {"BACKEND": CELERY_FLOWER, "APP": CELERY_APP, "ARGS": {"prot": 5555}}},
            "Process 'flower': ARGS key 'prot' is not a celery flower option; did you mean 'port'?",
        ),
    ],
    ids=["configuration", "app", "args"],
)
def test_each_kind_of_error_exits_1_with_the_message_alone(
    name: str, processes: dict[str, Any], message: str
) -> None:
    assert_error(fails(name, processes), message)
    assert error(name, processes) == message


# ----- Celery: the APP -------------------------------------------------------------------------


def test_celery_without_app() -> None:
    assert error("worker", {"worker": {"BACKEND": CELERY_WORKER}}) == (
        "Process 'worker' needs 'APP', the import path of your Celery app, e.g. 'APP': 'config.celery.app'."
    )


@pytest.mark.parametrize(
    ("app", "why"),
    [
        ("testproject.nosuch.app", "no module named 'testproject.nosuch'"),
        ("testproject.celery.nosuch", "module 'testproject.celery' has no attribute 'nosuch'"),
        ("testproject.celery:app.nosuch", "module 'testproject.celery' has no attribute 'nosuch'"),
    ],
)
def test_celery_app_path_that_does_not_exist(app: str, why: str) -> None:
    assert error("worker", celery(APP=app)) == (
        f"Process 'worker': APP {app!r} cannot be imported ({why}); set it to the import path of "
        "your Celery app, e.g. 'config.celery.app'."
    )


def test_celery_app_module_that_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not a typo in the path: the module exists and its own code fails. Say where (relative to
    # the working directory, as manage.py runs there).
    monkeypatch.chdir(TESTS_DIR)
    assert error("worker", celery(APP="testproject.broken_celery.app")) == (
        "Process 'worker': importing APP 'testproject.broken_celery.app' raised RuntimeError: the "
        "broker password is not configured (testproject/broken_celery.py, line 3); fix that module "
        "(--traceback shows the whole traceback)."
    )


def test_celery_app_module_that_raises_with_traceback() -> None:
    result = run_manage(
        "prodserver", "worker", "--traceback", processes=celery(APP="testproject.broken_celery.app")
    )
    assert result.returncode == 1
    assert 'testproject/broken_celery.py", line 3, in <module>' in result.stderr
    assert "RuntimeError: the broker password is not configured" in result.stderr


def test_celery_app_that_is_not_a_celery_app() -> None:
    assert error("worker", celery(APP="testproject.settings.SECRET_KEY")) == (
        "Process 'worker': APP 'testproject.settings.SECRET_KEY' is a str, not a Celery app; point "
        "it at the Celery(...) instance, e.g. 'config.celery.app'."
    )


# ----- Celery: not installed, options, shutdown, broker ----------------------------------------


def test_celery_not_installed() -> None:
    assert_error(
        fails("worker", celery(), env=without("celery")),
        "Process 'worker' uses CeleryWorker, but Celery is not installed: "
        "pip install 'django-prodserver[celery]'",
    )


def test_flower_not_installed() -> None:
    assert_error(
        fails("flower", flower(), env=without("flower")),
        "Process 'flower' uses CeleryFlower, but Flower is not installed: "
        "pip install 'django-prodserver[flower]'",
    )


def test_celery_unknown_args_key() -> None:
    assert error("worker", celery(ARGS={"concurency": 2})) == (
        "Process 'worker': ARGS key 'concurency' is not a celery worker option; did you mean 'concurrency'?"
    )


def test_celery_bad_value_quotes_celery() -> None:
    message = error("worker", celery(ARGS={"concurrency": "many"}))
    # Celery's own words, which vary by release: "must be a non-negative integer or 'auto',
    # got 'many'" in 5.5, "'many' is not a valid integer." in 5.3.
    assert re.fullmatch(
        r"Process 'worker': ARGS\['concurrency'\] = 'many' is rejected by celery worker: Invalid value "
        r"for '-c' / '--concurrency': .*'many'.*",
        message,
    ), message


def test_celery_detach_is_refused_with_the_reason() -> None:
    assert error("worker", celery(ARGS={"detach": True})) == (
        "Process 'worker': ARGS key 'detach' is refused: it makes celery worker detach into the "
        "background, beyond the reach of prodserver's supervisor and of every later stop signal; "
        "remove it (the supervisor, systemd or the platform keeps the process running)."
    )


@pytest.mark.parametrize("argv", [["celery-entry.py", "start"], ["run-worker.py"]])
def test_soft_shutdown_outside_a_start_command_is_refused(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started by something other than 'prodserver', 'server' or 'worker', the worker cannot
    re-execute itself with REMAP_SIGTERM, and says where to set it instead."""
    from django_prodserver.backends._celery_shutdown import Shutdown
    from django_prodserver.errors import StartupError

    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.delenv("PRODSERVER_CELERY_REEXEC", raising=False)
    shutdown = Shutdown("worker", "soft", soft_timeout=20.0, app_timeout=False, acks_late=False)
    with pytest.raises(StartupError) as refused:
        shutdown._reexec()
    assert str(refused.value) == (
        "Process 'worker': SHUTDOWN 'soft' needs REMAP_SIGTERM=SIGQUIT in the environment "
        "before Celery is imported; set it where the worker is started."
    )


def test_celery_unknown_shutdown_mode() -> None:
    assert error("worker", celery(SHUTDOWN="cold")) == (
        "Process 'worker': SHUTDOWN = 'cold' is not a Celery shutdown mode; use 'soft' (the default: "
        "SIGTERM gives running tasks a bounded time) or 'warm' (SIGTERM waits for them however long)."
    )


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_celery_broker_unreachable(scheme: str) -> None:
    port = closed_port()
    url = f"redis://127.0.0.1:{port}/0" if scheme == "redis" else f"amqp://guest:secret@127.0.0.1:{port}//"
    shown = url.replace(":secret@", ":**@")
    refused = (
        f"Error 111 connecting to 127.0.0.1:{port}. Connection refused."
        if scheme == "redis"
        else "[Errno 111] Connection refused"
    )
    assert_error(
        fails("worker", celery(), env={"CELERY_BROKER_URL": url}),
        f"Process 'worker': cannot reach the Celery broker at {shown}: {refused}; start it, or fix "
        "the app's broker_url (CELERY_BROKER_URL).",
    )


def test_celery_broker_that_never_answers(tmp_path: Path) -> None:
    # A port that accepts connections and then says nothing: bounded, not a hang.
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = fails("worker", celery(), env={"CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0"})
    assert_error(
        result,
        f"Process 'worker': cannot reach the Celery broker at redis://127.0.0.1:{port}/0: no answer "
        "within 5 s; start it, or fix the app's broker_url (CELERY_BROKER_URL).",
    )


def test_flower_unknown_option_is_not_dropped_silently() -> None:
    assert error("flower", flower(ARGS={"prot": 5555})) == (
        "Process 'flower': ARGS key 'prot' is not a celery flower option; did you mean 'port'?"
    )


def test_flower_bad_value_quotes_tornado() -> None:
    assert error("flower", flower(ARGS={"port": "http"})) == (
        "Process 'flower': ARGS['port'] = 'http' is rejected by celery flower: "
        "invalid literal for int() with base 10: 'http'"
    )


# ----- Django Tasks ------------------------------------------------------------------------------


def tasks(**entry: Any) -> dict[str, Any]:
    return {"worker": {"BACKEND": DJANGO_TASKS, **entry}}


def test_django_tasks_app_not_installed() -> None:
    assert error("worker", tasks()) == (
        "Process 'worker' runs django-tasks-db's db_worker, but 'django_tasks_db' is not in "
        "INSTALLED_APPS: add it, then run 'manage.py migrate'."
    )


def test_django_tasks_not_installed() -> None:
    assert_error(
        fails("worker", tasks(), env=without("django_tasks_db")),
        "Process 'worker' uses DjangoTasksWorker, but django-tasks-db is not installed: "
        "pip install 'django-prodserver[django-tasks]'",
    )


def test_django_tasks_backend_without_a_worker() -> None:
    # Without TASKS the default backend runs each task inside enqueue(): nothing to work on.
    settings = {"INSTALLED_APPS": installed_apps("django_tasks", "django_tasks_db")}
    # Django 6's own Tasks framework, or the backport before it.
    framework = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
    assert error("worker", tasks(), settings=settings) == (
        f"Process 'worker': TASKS['default'] uses {framework}.backends.immediate.ImmediateBackend, "
        "which has no worker (db_worker runs the tasks of a database backend); set its 'BACKEND' to "
        "'django_tasks_db.DatabaseBackend'."
    )


def test_django_tasks_unknown_args_key() -> None:
    assert error("worker", tasks(ARGS={"intervall": 1}), settings=tasks_settings()) == (
        "Process 'worker': ARGS key 'intervall' is not a db_worker option; did you mean 'interval'?"
    )


def test_django_tasks_bad_value_quotes_db_worker() -> None:
    message = error("worker", tasks(ARGS={"interval": -1}), settings=tasks_settings())
    # db_worker's own words, which vary by release ("Must be zero or greater" in 0.13).
    assert re.fullmatch(
        r"Process 'worker': ARGS\['interval'\] = -1 is rejected by db_worker: argument --interval: "
        r"Must be [a-z ]+",
        message,
    ), message


def test_django_tasks_database_not_migrated(tmp_path: Path) -> None:
    assert_error(
        fails("worker", tasks(), settings=tasks_settings(), db=str(tmp_path / "empty.sqlite3")),
        "Process 'worker': the 'default' database has no django-tasks-db tables; run 'manage.py migrate'.",
    )


def test_django_tasks_database_unreachable() -> None:
    port = closed_port()
    assert_error(
        fails("worker", tasks(), settings=tasks_settings(), db=f"postgres://postgres@127.0.0.1:{port}/test"),
        f"Process 'worker': cannot reach the 'default' database, where django-tasks-db keeps its "
        f'tasks: connection failed: connection to server at "127.0.0.1", port {port} failed: '
        "Connection refused",
    )


# ----- Django-Q2 ---------------------------------------------------------------------------------


def q2(**entry: Any) -> dict[str, Any]:
    return {"worker": {"BACKEND": DJANGO_Q2, **entry}}


def test_django_q2_app_not_installed() -> None:
    assert error("worker", q2()) == (
        "Process 'worker' runs Django-Q2's qcluster, but 'django_q' is not in INSTALLED_APPS: add it, "
        "then run 'manage.py migrate'."
    )


def test_django_q2_not_installed() -> None:
    assert_error(
        fails("worker", q2(), env=without("django_q")),
        "Process 'worker' uses DjangoQ2Worker, but Django-Q2 is not installed: "
        "pip install 'django-prodserver[django-q2]'",
    )


def test_django_q2_unknown_args_key() -> None:
    # A subprocess: Django-Q2 reads Q_CLUSTER once, when django_q.conf is first imported, so
    # override_settings cannot give it this test's cluster.
    assert_error(
        fails("worker", q2(ARGS={"run_one": True}), settings=q2_settings(orm="default")),
        "Process 'worker': ARGS key 'run_one' is not a qcluster option; did you mean 'run-once'?",
    )


def test_django_q2_redis_unreachable(migrated_q2: str) -> None:
    port = closed_port()
    settings = q2_settings(redis=f"redis://127.0.0.1:{port}/0")
    assert_error(
        fails("worker", q2(), settings=settings, db=migrated_q2),
        f"Process 'worker': cannot reach Django-Q2's broker at redis://127.0.0.1:{port}/0: Error 111 "
        f"connecting to 127.0.0.1:{port}. Connection refused.; start it, or point Q_CLUSTER at it "
        "('redis', or 'orm': 'default' to use the database).",
    )


def test_django_q2_database_not_migrated(tmp_path: Path) -> None:
    assert_error(
        fails("worker", q2(), settings=q2_settings(orm="default"), db=str(tmp_path / "empty.sqlite3")),
        "Process 'worker': the 'default' database has no Django-Q2 tables; run 'manage.py migrate'.",
    )


def test_django_q2_database_unreachable_with_the_orm_broker() -> None:
    # The ORM broker connects as Django-Q2 creates it: this failed with a traceback.
    port = closed_port()
    assert_error(
        fails(
            "worker",
            q2(),
            settings=q2_settings(orm="default"),
            db=f"postgres://postgres@127.0.0.1:{port}/test",
        ),
        f"Process 'worker': cannot reach the 'default' database, where Django-Q2 keeps its tasks: "
        f'connection failed: connection to server at "127.0.0.1", port {port} failed: Connection refused',
    )


@pytest.fixture(scope="module")
def migrated_q2(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("q2") / "db.sqlite3")
    result = run_manage("migrate", "--noinput", db=path, settings=q2_settings(orm="default"))
    assert result.returncode == 0, result.stderr
    return path


def test_an_unreachable_broker_is_a_deploy_check_not_a_plain_one() -> None:
    # 'migrate' on a laptop without the broker keeps working; 'check --deploy' says it.
    url = f"redis://127.0.0.1:{closed_port()}/0"
    env = {"CELERY_BROKER_URL": url}
    plain = run_manage("check", processes=celery(), env=env, timeout=60)
    assert plain.returncode == 0, plain.stderr
    deploy = run_manage("check", "--deploy", processes=celery(), env=env, timeout=60)
    assert deploy.returncode == 1, deploy.stdout
    assert f"(prodserver.E007) Process 'worker': cannot reach the Celery broker at {url}: " in deploy.stderr

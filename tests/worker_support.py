"""What the worker tests share: settings for each framework, enqueueing, waiting for a task's file.

Tasks (``testproject/tasks.py``) leave a file behind; ``held_touch`` writes ``PATH.started``
first, so a test signals the worker only once the task is really running, and finishes only
once the test calls ``release(PATH)``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import django

from harness import Child, process_group, run_manage, wait_until

CELERY_WORKER = "django_prodserver.backends.celery.CeleryWorker"
CELERY_BEAT = "django_prodserver.backends.celery.CeleryBeat"
CELERY_FLOWER = "django_prodserver.backends.celery.CeleryFlower"
DJANGO_TASKS = "django_prodserver.backends.django_tasks.DjangoTasksWorker"
DJANGO_Q2 = "django_prodserver.backends.django_q2.DjangoQ2Worker"

CELERY_APP = "testproject.celery.app"


def unique(prefix: str) -> str:
    """A name no other test (or earlier run) uses: queues, cluster names, databases."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def installed_apps(*extra: str) -> list[str]:
    """The test project's INSTALLED_APPS plus ``extra``; the settings module is only read here."""
    from testproject import settings

    return [*settings.INSTALLED_APPS, *extra]


def tasks_settings(**more: Any) -> dict[str, Any]:
    """Django Tasks on the database backend (the settings django-tasks-db documents)."""
    return {
        "INSTALLED_APPS": installed_apps("django_tasks", "django_tasks_db"),
        "TASKS": {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}},
        **more,
    }


def q2_settings(**cluster: Any) -> dict[str, Any]:
    """Django-Q2 with one worker; ``cluster`` adds or replaces Q_CLUSTER keys."""
    return {
        "INSTALLED_APPS": installed_apps("django_q"),
        "Q_CLUSTER": {"name": unique("q"), "workers": 1, "timeout": 30, "retry": 60, "poll": 0.1, **cluster},
    }


def shell(code: str, **env_kw: Any) -> str:
    """Run ``code`` in ``manage.py shell`` with the worker's settings (how the tests enqueue)."""
    # Django 5.2 imports the models into the shell; --no-imports (5.2+) keeps it quick.
    quiet = ["--no-imports"] if django.VERSION >= (5, 2) else []
    result = run_manage("shell", *quiet, "-c", code, **env_kw)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def _printed_since(child: Child, lines: int) -> bool:
    return len(child.lines) > lines


def wait_for_file(path: Path, child: Child, timeout: float = 30) -> str:
    """The file's text once it exists; the child's output in the failure if it never does."""
    try:
        wait_until(f"{path} was not written", path.exists, child, timeout)
    except AssertionError:
        # Every process of the worker prints its threads' stacks (testproject/settings.py),
        # one process at a time, each once the last one's reached the output, so that their
        # lines do not interleave in the shared pipe.
        for pid in process_group(child.pid):
            printed = len(child.lines)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGUSR1)
            with contextlib.suppress(AssertionError):
                wait_until("its stacks", partial(_printed_since, child, printed), timeout=3)
        why = f"{path} was not written within {timeout}s; the stacks of its processes follow"
        raise child.fail(why) from None
    return path.read_text()


#: How long a test waits for a Celery worker to stop after a task it ran. The task's file can
#: exist before the worker's main process has the result; a SIGTERM in that window finds the
#: task still active, and the default SHUTDOWN 'soft' then waits out its 20 s in full.
STOP_AFTER_A_TASK = 60


def signal_group(child: Child) -> None:
    """SIGTERM to every process of the child's group, as systemd, Heroku or a killpg do."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)


def stop_group(child: Child, timeout: float = 30) -> int:
    signal_group(child)
    return child.wait(timeout)


def release(path: Path) -> None:
    """Let ``held_touch(path)`` finish (testproject/tasks.py)."""
    Path(f"{path}.release").touch()


def celery_send(broker: str, task: str, *args: Any, queue: str) -> None:
    """Publish a task by name, as a web process using the same broker would."""
    from celery import Celery

    app = Celery("sender", broker=broker, set_as_current=False)
    try:
        with app.connection_for_write() as connection:
            app.send_task(task, args=list(args), queue=queue, connection=connection)
    finally:
        app.close()


def celery_delete_queue(broker: str, queue: str) -> None:
    """Remove a test's queue from the broker (RabbitMQ keeps durable queues forever)."""
    from kombu.connection import Connection

    with Connection(broker) as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_delete(queue)


def celery_queue_length(broker: str, queue: str) -> int:
    from kombu.connection import Connection

    with Connection(broker) as connection:
        _, count, _ = connection.default_channel.queue_declare(queue, passive=True)
        return int(count)


def celery_processes(broker_queue: str, **entry: Any) -> Mapping[str, Any]:
    """A Celery worker on one queue, without the cluster chatter that slows a start."""
    args = {
        "concurrency": 1,
        "hostname": f"{broker_queue}@%h",
        "queues": [broker_queue],
        "without-gossip": True,
        "without-mingle": True,
        "without-heartbeat": True,
        **entry.pop("ARGS", {}),
    }
    return {"worker": {"BACKEND": CELERY_WORKER, "APP": CELERY_APP, "ARGS": args, **entry}}

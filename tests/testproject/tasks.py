"""Tasks the worker tests enqueue. Each leaves a file behind, so a test can see that it ran.

``slow_touch`` first writes ``PATH.started``, so a test knows the task is in progress before it
sends a signal, then sleeps, then writes ``PATH``: finding ``PATH`` proves the task finished.
The same work is exposed to each framework: Celery (by task name), Django Tasks (a ``@task``)
and Django-Q2 (by dotted path to the plain function).
"""

import os
import time
from importlib.util import find_spec
from pathlib import Path

from celery import shared_task

if find_spec("django.tasks"):  # Django 6
    from django.tasks import task
elif find_spec("django_tasks"):
    from django_tasks import task
else:  # the lowest-versions venv of the workers has no Django Tasks
    task = None


def touch(path: str) -> str:
    Path(path).write_text(f"done by pid {os.getpid()}\n")
    return path


def slow_touch(seconds: float, path: str) -> str:
    Path(f"{path}.started").write_text(f"{os.getpid()}\n")
    time.sleep(seconds)
    return touch(path)


@shared_task(name="testproject.touch")
def celery_touch(path: str) -> str:
    return touch(path)


@shared_task(name="testproject.slow_touch")
def celery_slow_touch(seconds: float, path: str) -> str:
    return slow_touch(seconds, path)


if task is not None:

    @task()
    def tasks_touch(path: str) -> str:
        return touch(path)

    @task()
    def tasks_slow_touch(seconds: float, path: str) -> str:
        return slow_touch(seconds, path)

"""Tasks the worker tests enqueue. Each leaves a file behind, so a test can see that it ran.

``slow_touch`` first writes ``PATH.started``, so a test knows the task is in progress before it
sends a signal, then sleeps, then writes ``PATH``: finding ``PATH`` proves the task finished.
``held_touch`` waits for the test to write ``PATH.release`` instead of a number of seconds, for
a test that needs the task still running when it stops the worker, however slow the machine.
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
else:
    from django_tasks import task

#: How often ``held_touch`` looks for its release file: about two minutes' worth.
RELEASE_POLLS = 2400


def touch(path: str) -> str:
    Path(path).write_text(f"done by pid {os.getpid()}\n")
    return path


def slow_touch(seconds: float, path: str) -> str:
    Path(f"{path}.started").write_text(f"{os.getpid()}\n")
    time.sleep(seconds)
    return touch(path)


def held_touch(path: str) -> str:
    Path(f"{path}.started").write_text(f"{os.getpid()}\n")
    release = Path(f"{path}.release")
    for _ in range(RELEASE_POLLS):  # bounded, so a forgotten release cannot hang a worker
        if release.exists():
            break
        time.sleep(0.05)
    return touch(path)


@shared_task(name="testproject.touch")
def celery_touch(path: str) -> str:
    return touch(path)


@shared_task(name="testproject.slow_touch")
def celery_slow_touch(seconds: float, path: str) -> str:
    return slow_touch(seconds, path)


@shared_task(name="testproject.held_touch")
def celery_held_touch(path: str) -> str:
    return held_touch(path)


@task()
def tasks_touch(path: str) -> str:
    return touch(path)


@task()
def tasks_slow_touch(seconds: float, path: str) -> str:
    return slow_touch(seconds, path)


@task()
def tasks_held_touch(path: str) -> str:
    return held_touch(path)

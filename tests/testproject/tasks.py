"""Tasks the worker tests enqueue. Each leaves a file behind, so a test can see that it ran.

``held_touch`` first writes ``PATH.started``, so a test knows the task is in progress before it
sends a signal, then waits until the test writes ``PATH.release``, then writes ``PATH``: finding
``PATH`` proves the task finished, and the task is certainly still running when the worker gets
the signal, however slow the machine (no task assumed to last some number of seconds).
The same work is exposed to each framework: Celery (by task name), Django Tasks (a ``@task``)
and Django-Q2 (by dotted path to the plain function).
"""

import os
import time
from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from celery import shared_task

#: Django Tasks' decorator: Django 6's, else the django-tasks backport's; None in the
#: lowest-versions venv of the workers, which has neither.
task: Callable[..., Callable[[Callable[..., str]], Any]] | None = next(
    (import_module(name).task for name in ("django.tasks", "django_tasks") if find_spec(name)), None
)

#: How often ``held_touch`` looks for its release file: about two minutes' worth.
RELEASE_POLLS = 2400


def write_whole(path: str, text: str) -> None:
    """Write ``path`` so that it never exists half-written.

    The tests poll for the file and read it as soon as it exists; ``write_text`` creates the
    file before it writes, so a poll in between read an empty file (a CI failure once in
    tens of runs). A rename within one directory is atomic.
    """
    partial = f"{path}.{os.getpid()}.partial"
    Path(partial).write_text(text)
    os.replace(partial, path)


def touch(path: str) -> str:
    write_whole(path, f"done by pid {os.getpid()}\n")
    return path


def held_touch(path: str) -> str:
    write_whole(f"{path}.started", f"{os.getpid()}\n")
    release = Path(f"{path}.release")
    for _ in range(RELEASE_POLLS):  # bounded, so a forgotten release cannot hang a worker
        if release.exists():
            break
        time.sleep(0.05)
    return touch(path)


@shared_task(name="testproject.touch")  # type: ignore[untyped-decorator]
def celery_touch(path: str) -> str:
    return touch(path)


@shared_task(name="testproject.held_touch")  # type: ignore[untyped-decorator]
def celery_held_touch(path: str) -> str:
    return held_touch(path)


if task is not None:

    @task()
    def tasks_touch(path: str) -> str:
        return touch(path)

    @task()
    def tasks_held_touch(path: str) -> str:
        return held_touch(path)

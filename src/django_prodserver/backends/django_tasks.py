"""Django Tasks: the database worker of ``django-tasks-db`` (``manage.py db_worker``).

The Tasks framework itself (Django 6's ``django.tasks``, or the ``django-tasks`` backport on
older Django) only enqueues; a task backend that stores tasks in the database needs this
worker to run them. ARGS are ``db_worker``'s own options, read from its parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_prodserver.backends.worker import ManagementCommandBackend, database, require_tables
from django_prodserver.errors import WorkerSetupError
from django_prodserver.reach import Target


class DjangoTasksWorker(ManagementCommandBackend):
    program = "db_worker"
    module = "django_tasks_db"
    extra = "django-tasks"
    distribution = "django-tasks-db"
    app_name = "django_tasks_db"

    def comma_separated(self) -> set[str]:
        # db_worker splits these on commas itself ("Separate multiple with a comma").
        return {"queue_name", "exclude_queues"}

    def defaults(self) -> Mapping[str, Any]:
        # db_worker's --reload defaults to settings.DEBUG; a production worker never reloads
        # (a reload stops the task in progress).
        return {"reload": False}

    def preconditions(self) -> None:
        # Before db_worker's parser, which would reject the alias in its own, vaguer words.
        super().preconditions()
        from django_tasks_db.backend import DatabaseBackend

        task_backends, default_alias, invalid = _tasks_framework()
        chosen = self.resolve().option("backend_name")
        alias = str(chosen.value) if chosen else default_alias
        try:
            backend = task_backends[alias]
        except invalid:
            return  # db_worker's own parser names the unknown alias
        if not isinstance(backend, DatabaseBackend):
            kind = f"{type(backend).__module__}.{type(backend).__qualname__}"
            raise WorkerSetupError(
                f"Process {self.name!r}: TASKS[{alias!r}] uses {kind}, which has no worker "
                "(db_worker runs the tasks of a database backend); set its 'BACKEND' to "
                "'django_tasks_db.DatabaseBackend'."
            )

    def preflight(self) -> None:
        """The database answers and is migrated; else db_worker dies on its first poll with a traceback."""
        from django_tasks_db.models import DBTaskResult

        require_tables(self.name, DBTaskResult, "django-tasks-db")

    def readiness_target(self) -> Target:
        from django_tasks_db.models import DBTaskResult

        return database(DBTaskResult, "django-tasks-db")


def _tasks_framework() -> tuple[Any, str, type[Exception]]:
    """The task backends, default alias and unknown-alias error of the framework django-tasks-db runs on.

    django-tasks-db 0.13 names them in its ``compat`` module (Django 6's ``django.tasks``, else
    the ``django-tasks`` backport); 0.12, the release that installs on Django 4.2 to 5.1, has
    no such names and runs on the backport only.
    """
    try:
        from django_tasks_db import compat

        return compat.task_backends, compat.DEFAULT_TASK_BACKEND_ALIAS, compat.InvalidTaskBackend
    except AttributeError:
        import django_tasks
        from django_tasks.exceptions import InvalidTaskBackendError

        return django_tasks.task_backends, django_tasks.DEFAULT_TASK_BACKEND_ALIAS, InvalidTaskBackendError

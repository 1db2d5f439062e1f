"""What background-worker backends share, and the base for workers that are management commands.

Workers are not web servers: no port, no ``PORT``/``WEB_CONCURRENCY`` contract, no app target.
What they do need is checked before the program's parser runs (its Django app installed, its
``APP`` importable), so each problem reads as one line naming the setting to fix.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django_prodserver.args import resolve_key
from django_prodserver.backends._parsers import ParserRejected
from django_prodserver.backends.base import BaseWorkerBackend
from django_prodserver.backends.program import ProgramBackend
from django_prodserver.errors import StartupError, WorkerSetupError
from django_prodserver.reach import Reach, Target
from django_prodserver.schemas import OptionSchema, from_argparse

if TYPE_CHECKING:
    from django.core.management.base import BaseCommand
    from django.db.models import Model

    from django_prodserver.heartbeat import Heartbeat

#: How long a broker or database may take to answer before we call it unreachable.
REACH_TIMEOUT = 5.0


class _ForkGuard:
    """Keeps a fork from happening while a probe is inside a database or broker driver.

    Probes run in threads beside the worker's loop, and the worker forks (Django-Q2's
    sentinel and its workers, Celery's pool). A fork taken while a probe thread holds a
    driver's lock (SQLite's, inside ``connect()``) hands the child that lock held for good:
    its first connection hangs. So a fork waits until no probe is running, for at most one
    probe's timeout, and no probe starts during the fork. A probe given up as hung no longer
    counts: waiting for it would only delay every fork, and it holds what it holds anyway.
    """

    changed = threading.Condition()
    running: set[object] = set()

    @classmethod
    def enter(cls) -> object:
        token = object()
        with cls.changed:
            cls.running.add(token)
        return token

    @classmethod
    def leave(cls, token: object) -> None:
        with cls.changed:
            cls.running.discard(token)
            cls.changed.notify_all()

    @classmethod
    def before(cls) -> None:
        # Held through the fork (released after it), so no probe starts meanwhile.
        cls.changed.acquire()
        cls.changed.wait_for(lambda: not cls.running, timeout=REACH_TIMEOUT)

    @classmethod
    def after_in_parent(cls) -> None:
        cls.changed.release()

    @classmethod
    def after_in_child(cls) -> None:
        cls.changed, cls.running = threading.Condition(), set()  # no probe thread came along


os.register_at_fork(
    before=_ForkGuard.before,
    after_in_parent=_ForkGuard.after_in_parent,
    after_in_child=_ForkGuard.after_in_child,
)


def unreachable(probe: Callable[[], object], timeout: float = REACH_TIMEOUT) -> str | None:
    """Why ``probe()`` failed, ``"no answer within N s"``, or None when it succeeded.

    The probe runs in a daemon thread so a host that accepts connections and never answers
    cannot hang the start: the worker's own retry loop would otherwise wait forever.
    """
    outcome: list[BaseException | None] = []
    token = _ForkGuard.enter()

    def attempt() -> None:
        try:
            probe()
        except Exception as exc:
            outcome.append(exc)
        else:
            outcome.append(None)
        finally:
            _ForkGuard.leave(token)

    thread = threading.Thread(target=attempt, name="prodserver-reach", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        _ForkGuard.leave(token)  # given up: forks no longer wait for it
        return f"no answer within {timeout:g} s"
    error = outcome[0]
    if error is None:
        return None
    # Drivers add hints on further lines (psycopg's "Is the server running…"); keep one line.
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def database(model: type[Model], program: str) -> Target:
    """The database that holds ``model``, as a readiness target: a fresh connection per probe."""
    from django.db import connections

    alias = model.objects.db  # type: ignore[attr-defined]

    def connect() -> None:
        # Connections are per thread: this one opens and closes in the probe's own thread.
        own = connections[alias]
        try:
            own.ensure_connection()
        finally:
            own.close()

    return Target(f"the {alias!r} database, where {program} keeps its tasks", connect)


def require_tables(process: str, model: type[Model], program: str) -> None:
    """The database that holds ``model`` answers and has its table (else: one line, not a traceback)."""
    from django.db import connections

    alias = model.objects.db  # type: ignore[attr-defined]
    target = database(model, program)
    problem = unreachable(target.probe)
    if problem:
        raise StartupError(f"Process {process!r}: cannot reach {target.what}: {problem}")
    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if model._meta.db_table not in tables:
        raise StartupError(
            f"Process {process!r}: the {alias!r} database has no {program} tables; run 'manage.py migrate'."
        )


class WorkerBackend(ProgramBackend, BaseWorkerBackend):
    records_heartbeat: ClassVar[bool] = True

    def start_server(self, *args: str) -> None:
        if not self.records_heartbeat:
            return super().start_server(*args)
        from django_prodserver import heartbeat
        from django_prodserver.conf import health_settings

        config = health_settings.health()
        target = self.readiness_target()
        # Finding the target may connect (Django-Q2's ORM broker does as it is created): closed
        # again, as the start closed every other one, so no worker this one forks shares it.
        from django.db import connections

        connections.close_all()
        reach = Reach(target, config.heartbeat_interval) if target else None
        with heartbeat.recording(self.name, config, start=False, reach=reach) as heart:
            self.heartbeat_when_alive(heart)
            super().start_server(*args)
        return None

    def heartbeat_when_alive(self, heart: Heartbeat) -> None:
        """Start ``heart`` once the worker's loop runs; at once unless the program says when."""
        heart.start()

    def readiness_target(self) -> Target | None:
        """What the worker works from (its broker, its task database); None: always ready."""
        return None

    def comma_separated(self) -> set[str]:
        """Options (by dest) whose one value is a comma-separated list, e.g. Celery's ``--queues``.

        A list in ARGS is joined with commas for them, as their parsers expect.
        """
        return set()

    def adapt(self, key: str, value: Any) -> tuple[str, Any]:
        lookup = resolve_key(self.schema, self.aliases, key)
        if (
            lookup is not None
            and isinstance(value, (list, tuple))
            and lookup.option.dest in self.comma_separated()
        ):
            return key, ",".join(map(str, value))
        return key, value

    def preconditions(self) -> None:
        self.ensure_installed()


#: Django's own options on every management command; they mean nothing once we run in-process.
DJANGO_COMMAND_OPTIONS = frozenset(
    {"settings", "pythonpath", "traceback", "no_color", "force_color", "skip_checks"}
)


class ManagementCommandBackend(WorkerBackend):
    """A worker that is a Django management command, run through ``call_command``.

    The command's own argparse parser is the schema; its errors come back as the
    ``CommandError`` Django raises for a parser error outside the command line.
    """

    # ``program`` is the management command's name, e.g. ``db_worker``.
    #: The entry in INSTALLED_APPS that provides the command.
    app_name: ClassVar[str] = ""

    def preconditions(self) -> None:
        self.management_command()

    def management_command(self) -> BaseCommand:
        from django.apps import apps
        from django.core.management import load_command_class

        self.ensure_installed()
        if not apps.is_installed(self.app_name):
            raise WorkerSetupError(
                f"Process {self.name!r} runs {self.distribution}'s {self.program}, but "
                f"{self.app_name!r} is not in INSTALLED_APPS: add it, then run 'manage.py migrate'."
            )
        return load_command_class(self.app_name, self.program)

    def parser(self) -> argparse.ArgumentParser:
        return self.management_command().create_parser("manage.py", self.program)

    def load_schema(self) -> OptionSchema:
        return from_argparse(self.program, self.parser(), skip=DJANGO_COMMAND_OPTIONS)

    def parse(self, argv: list[str]) -> None:
        from django.core.management import CommandError

        try:
            self.parser().parse_args(argv)
        except CommandError as exc:
            raise ParserRejected(str(exc).removeprefix("Error: ")) from None

    def run(self, argv: list[str]) -> int:
        from django.core.management import call_command

        call_command(self.management_command(), *argv)
        return 0

    def equivalent_command(self, argv: Sequence[str]) -> list[str]:
        return ["python", "manage.py", self.program, *argv]

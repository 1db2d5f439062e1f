"""Celery: the worker, beat and Flower, run in this process through Celery's own command group.

``APP`` names the Celery application (``"config.celery.app"``); ARGS are the subcommand's own
options, read from its click parameters (Flower's from tornado's option registry, which is
what Flower parses). The worker's shutdown is chosen by ``SHUTDOWN`` (see :mod:`._celery_shutdown`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django_prodserver.application import to_target
from django_prodserver.args import Setting
from django_prodserver.backends._celery_shutdown import Shutdown
from django_prodserver.backends._parsers import ParserRejected, click_rejection
from django_prodserver.backends.base import BaseServerBackend
from django_prodserver.backends.worker import REACH_TIMEOUT, WorkerBackend, unreachable
from django_prodserver.errors import AppImportError, StartupError
from django_prodserver.importing import NotFound, import_path, where_raised
from django_prodserver.reach import Target
from django_prodserver.resolved import Kind, Resolved, Row
from django_prodserver.schemas import Option, OptionSchema, from_click

if TYPE_CHECKING:
    import click
    from celery import Celery

    from django_prodserver.heartbeat import Heartbeat

APP_EXAMPLE = "config.celery.app"


def load_app(process: str, path: Any) -> Celery:
    """Import the Celery app ``APP`` names; a wrong path and a module that raises read differently."""
    from celery import Celery

    if not path:
        raise AppImportError(
            f"Process {process!r} needs 'APP', the import path of your Celery app, "
            f"e.g. 'APP': {APP_EXAMPLE!r}."
        )
    try:
        app = import_path(str(path))
    except NotFound as exc:
        raise AppImportError(
            f"Process {process!r}: APP {path!r} cannot be imported ({exc}); set it to the import "
            f"path of your Celery app, e.g. {APP_EXAMPLE!r}."
        ) from None
    except Exception as exc:
        raise AppImportError(
            f"Process {process!r}: importing APP {path!r} raised {type(exc).__name__}: {exc} "
            f"({where_raised(exc)}); fix that module (--traceback shows the whole traceback)."
        ) from exc
    if not isinstance(app, Celery):
        raise AppImportError(
            f"Process {process!r}: APP {path!r} is a {type(app).__name__}, not a Celery app; "
            f"point it at the Celery(...) instance, e.g. {APP_EXAMPLE!r}."
        )
    return app


@contextlib.contextmanager
def _as_group_app(app: Celery) -> Iterator[click.Group]:
    """Celery's command group with ``app`` as its ``-A`` default, as ``app.start()`` sets it."""
    from celery.bin.celery import celery as group

    group.params[0].default = app
    try:
        yield group
    finally:
        group.params[0].default = None


class _CeleryBackend(WorkerBackend):
    module = "celery"
    extra = "celery"
    distribution = "Celery"
    #: The ``celery`` subcommand this backend runs.
    subcommand: ClassVar[str] = ""
    detaching_options = frozenset({"detach"})

    _app: Celery | None = None

    def app_path(self) -> Any:
        return self.process.app if self.process else self.server_args.get("APP")

    def celery_app(self) -> Celery:
        if self._app is None:
            self.ensure_installed()
            self._app = load_app(self.name, self.app_path())
        return self._app

    def preconditions(self) -> None:
        self.celery_app()

    def click_command(self) -> click.Command:
        from celery.bin.celery import celery as group

        command: click.Command = group.commands[self.subcommand]
        return command

    def load_schema(self) -> OptionSchema:
        return from_click(self.program, self.click_command())

    def comma_separated(self) -> set[str]:
        from celery.bin.base import CommaSeparatedList

        return {str(p.name) for p in self.click_command().params if isinstance(p.type, CommaSeparatedList)}

    def parse(self, argv: list[str]) -> None:
        from celery.bin.base import CLIContext

        app = self.celery_app()
        with _as_group_app(app) as group, click_rejection():
            parent = group.make_context("celery", [self.subcommand])
            # The subcommand's option callbacks look for the app on the context object.
            parent.obj = CLIContext(app=app, no_color=True, workdir=None, quiet=True)
            with parent:
                self.click_command().make_context(self.subcommand, list(argv), parent=parent)

    def run(self, argv: list[str]) -> int:
        with _as_group_app(self.celery_app()) as group:
            status = group.main(args=[self.subcommand, *argv], prog_name="celery", standalone_mode=False)
        return status if isinstance(status, int) else 0

    def equivalent_command(self, argv: Sequence[str]) -> list[str]:
        if not self.app_path():
            self.celery_app()  # says that APP is missing (--list shows it)
        return ["celery", "-A", to_target(str(self.app_path())), self.subcommand, *argv]

    def defaults(self) -> Mapping[str, Any]:
        # Celery logs at WARNING by default: not even "ready", nor a task received or done.
        return {"loglevel": "INFO"}

    def readiness_target(self) -> Target:
        """The broker, through a new connection per probe (the worker's own one is its consumer's)."""
        from kombu.utils.url import maybe_sanitize_url

        app = self.celery_app()
        shown = app.connection_for_read()
        url = maybe_sanitize_url(shown.as_uri(include_password=True))
        shown.release()

        def connect() -> None:
            connection = app.connection_for_read(connect_timeout=REACH_TIMEOUT)
            try:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            finally:
                connection.release()

        return Target(f"the Celery broker at {url}", connect)

    def preflight(self) -> None:
        """Say which broker is down, in one line, instead of retrying forever."""
        target = self.readiness_target()
        problem = unreachable(target.probe)
        if problem:
            raise StartupError(
                f"Process {self.name!r}: cannot reach {target.what}: {problem}; "
                "start it, or fix the app's broker_url (CELERY_BROKER_URL)."
            )


class CeleryWorker(_CeleryBackend):
    program = "celery worker"
    subcommand = "worker"
    reads_shutdown = True

    @cached_property
    def shutdown(self) -> Shutdown:
        from django_prodserver.conf.supervisor_settings import supervisor

        mode = self.process.shutdown if self.process else None
        return Shutdown.of(self.name, mode, self.celery_app(), supervisor().shutdown_timeout)

    def run(self, argv: list[str]) -> int:
        self.shutdown.prepare(self.celery_app())
        return super().run(argv)

    def heartbeat_when_alive(self, heart: Heartbeat) -> None:
        from celery.signals import worker_ready

        # Once the consumer runs; a broker outage later leaves it beating (not ready, not dead).
        worker_ready.connect(lambda **kwargs: heart.start(), weak=False)

    def explain(self, resolved: Resolved) -> list[str]:
        return self.shutdown.notes()

    def graceful(self, options: Mapping[str, Setting]) -> tuple[float | None, str]:
        # Soft: worker_soft_shutdown_timeout; warm: running tasks take however long they take.
        return self.shutdown.budget()

    def equivalent_command(self, argv: Sequence[str]) -> list[str]:
        return [*self.shutdown.environment_prefix(), *super().equivalent_command(argv)]

    def rows(self, resolved: Resolved) -> list[Row]:
        return [*super().rows(resolved), *self.shutdown.rows()]


class CeleryBeat(_CeleryBackend):
    program = "celery beat"
    subcommand = "beat"

    def heartbeat_when_alive(self, heart: Heartbeat) -> None:
        from celery.signals import beat_init

        beat_init.connect(lambda **kwargs: heart.start(), weak=False)


class CeleryFlower(_CeleryBackend, BaseServerBackend):
    """Flower: its options are tornado options, which Flower keeps only if it knows the name.

    An unknown name would be dropped silently, so we validate against tornado's registry.
    Flower answers HTTP, so it is a server: ``manage.py server flower`` runs it (3.x has it at
    ``backends.servers.flower``), though it shares the Celery worker's app loading.
    """

    kind: ClassVar[Kind] = "server"
    program = "celery flower"
    subcommand = "flower"
    #: A web UI: probe it over HTTP like a web process.
    records_heartbeat = False
    module = "flower"
    extra = "flower"
    distribution = "Flower"

    def load_schema(self) -> OptionSchema:
        options = []
        for key, option in _tornado_options().items():
            if option.name == "help" or option.type not in (str, int, float, bool):
                continue  # e.g. format_task: a Python function, set only in a config file
            # Every tornado option takes "--name=value", booleans included ("--persistent=False").
            options.append(
                Option(
                    option.name,
                    f"--{key}",
                    True,
                    help=option.help or "",
                    default=option.default,
                    boolean=option.type is bool,
                )
            )
        return OptionSchema(self.program, options)

    def comma_separated(self) -> set[str]:
        return {option.name for option in _tornado_options().values() if option.multiple}

    def defaults(self) -> Mapping[str, Any]:
        # Flower's own default address '' listens on every interface, with no authentication.
        return {"address": "127.0.0.1"}

    def parse(self, argv: list[str]) -> None:
        from tornado.options import Error, OptionParser

        # A private registry with the same definitions: parsing the global one would set values.
        private = OptionParser()  # defines --help itself
        for option in _tornado_options().values():
            if option.name == "help":
                continue
            private.define(option.name, type=option.type, multiple=option.multiple, help=option.help)
        try:
            private.parse_command_line(["flower", *argv], final=False)
        except Error as exc:
            raise ParserRejected(str(exc)) from None
        except ValueError as exc:
            raise ParserRejected(str(exc)) from None


def _tornado_options() -> dict[str, Any]:
    import flower.command  # noqa: F401  (defines Flower's options on tornado's registry)
    from tornado.options import options

    return dict(options._options)

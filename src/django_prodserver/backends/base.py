"""The public extension API for backends, and the lifecycle every backend goes through.

Backends written for the public django-prodserver keep working: they are constructed with
the process' config as keyword arguments, ``self.args`` holds the ARGS as ``--key=value``
strings, ``prep_server_args()`` returns the argv and ``start_server(*args)`` starts the
program. 2.x subclasses ``BaseServerBackend``; 3.x added ``BaseProcessBackend`` and
``BaseWorkerBackend``. Everything else has a harmless default, so such a backend gets
``--list``, ``--dry-run``, the checks and the supervisor for free.

The lifecycle, in the order the command runs it: ``resolve()`` (once: what will run and why),
``validate()`` (problems found without starting anything), ``preflight()`` (problems of this
machine right now: a port taken, a broker down), ``notes()``, then ``start_server(*argv)``.
"""

from __future__ import annotations

import inspect
import os
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django_prodserver.args import raw_argv
from django_prodserver.backends import names
from django_prodserver.errors import ConfigurationError, OptionError
from django_prodserver.masking import mask_argv
from django_prodserver.records import replace
from django_prodserver.resolved import Kind, Resolved, Row

if TYPE_CHECKING:
    from django_prodserver.conf.processes import ProcessConfig
    from django_prodserver.errors import ProdserverError


class BaseProcessBackend:
    #: Shown by ``--list``/``--dry-run``; schema-driven backends name their program.
    program: str = ""
    #: "server" processes answer HTTP (``manage.py server``); "worker" ones do not.
    kind: ClassVar[Kind] = "server"
    #: False: options after the process name on the command line are an error for this
    #: backend, instead of being passed on (3.x's contract).
    accepts_extra_args: ClassVar[bool] = True
    #: Whether the process records a heartbeat that ``--healthcheck`` reads (heartbeat.py);
    #: the built-in workers do, servers are probed over HTTP instead.
    records_heartbeat: ClassVar[bool] = False
    #: True for development servers (runserver and the like): ``check --deploy`` warns.
    development: ClassVar[bool] = False
    #: Whether the backend reads ``SHUTDOWN`` (Celery's worker); elsewhere a warning says not.
    reads_shutdown: ClassVar[bool] = False
    #: Whether the process ends by itself (a management command): only such a one may be ``ONESHOT``.
    completes: ClassVar[bool] = False

    def __init__(self, **server_args: Any) -> None:
        self.server_args = server_args
        self.args: list[str] = self._format_server_args_from_dict(server_args.get("ARGS"))
        self.process: ProcessConfig | None = None
        #: Options given after the process name on the command line.
        self.overrides: list[str] = []
        #: Where the platform contract (``PORT``, ``WEB_CONCURRENCY``, …) is read: this
        #: process' environment, or for an export the one of the machine it is for.
        self.environ: Mapping[str, str] = os.environ
        self._resolved: Resolved | None = None

    @classmethod
    def from_config(
        cls,
        process: ProcessConfig,
        overrides: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> BaseProcessBackend:
        if overrides and not cls.accepts_extra_args:
            # Dropping them silently would start something other than what was asked for.
            raise OptionError(
                f"Process {process.name!r}: {cls.__name__} takes no options on the command line "
                f"({shlex.join(overrides)}); set them in {process.setting_path('ARGS')}."
            )
        backend = cls(**process.raw)
        backend.process = process
        backend.overrides = list(overrides)
        if environ is not None:
            backend.environ = environ
        return backend

    @property
    def name(self) -> str:
        return self.process.name if self.process else type(self).__name__

    def _format_server_args_from_dict(
        self, args: Mapping[str, Any] | Sequence[str] | str | None
    ) -> list[str]:
        if not args:
            return []
        if isinstance(args, Mapping):
            return [f"--{key}={value}" for key, value in args.items()]
        return raw_argv(args)

    # ----- the lifecycle -------------------------------------------------------------------

    def resolve(self) -> Resolved:
        """What this process will run and why, computed on first use and then only read."""
        if self._resolved is None:
            self.refuse_misplaced_keys()
            self._resolved = self._with_drain(self._resolve(), self.process.drain if self.process else 0.0)
        return self._resolved

    def refuse_misplaced_keys(self) -> None:
        """Refuse a key of the entry that cannot work for this backend.

        ``ONESHOT`` on a process that runs until it is stopped keeps every process after it
        waiting for good, so it is judged for our own backends (only ManagementCommand
        completes); a 2.x backend is a "server" whatever it runs (2.x had one base class), so
        custom backends are not. ``DRAIN`` is prodserver's own doing for any backend.
        """
        process = self.process
        if process is None:
            return
        if process.oneshot and not self.completes and names.is_ours(process.backend):
            raise ConfigurationError(
                f"Process {self.name!r}: ONESHOT runs a step to completion before the others start, "
                f"and {type(self).__name__} runs until it is stopped; remove it, or run the step with "
                "the ManagementCommand backend."
            )
        if process.drain and self.kind != "server":
            raise ConfigurationError(
                f"Process {self.name!r}: DRAIN applies to web servers (readiness fails while "
                "requests are still served); remove it from this worker."
            )

    def unread_keys(self) -> list[str]:
        """One sentence per key of the entry this backend does not read: the W007 warnings.

        Warnings, as for a misspelt key: the key did nothing before, and ``migrate`` must keep
        running. ``SHUTDOWN`` is judged for our own backends only: any other backend receives
        the whole entry and may read it.
        """
        from django_prodserver.conf.processes import key_warnings

        process = self.process
        if process is None:
            return []
        found = key_warnings(process)
        if process.shutdown is not None and not self.reads_shutdown and names.is_ours(process.backend):
            found.append(
                f"Process {self.name!r}: {process.setting_path('SHUTDOWN')} applies to Celery workers "
                f"(what SIGTERM does to running tasks); {type(self).__name__} does not read it."
            )
        return found

    def _with_drain(self, resolved: Resolved, seconds: float) -> Resolved:
        """``DRAIN`` applies to whatever server a backend runs, so it is added here, once."""
        if not seconds:
            return resolved
        why = f"after SIGTERM /readyz/ answers 503 for {seconds:g} s, then the graceful stop"
        return replace(
            resolved,
            drain=seconds,
            rows=(*resolved.rows, Row(f"(drain) {seconds:g} s", "prodserver", f"DRAIN: {why}")),
            notes=(*resolved.notes, f"{self.name}: DRAIN: {why} begins."),
        )

    def _resolve(self) -> Resolved:
        argv = tuple(self.prepared_argv())
        return Resolved(
            name=self.name,
            program=self.program or type(self).__name__,
            kind=self.kind,
            argv=argv,
            command=(self.program or type(self).__name__, *argv),
            rows=tuple(Row(arg, "ARGS", "") for arg in mask_argv(argv)),
        )

    def validate(self) -> None:
        """Raise a :class:`ProdserverError` for a problem found without starting anything."""

    def preflight(self) -> None:
        """Raise a :class:`ProdserverError` for what stops the start on this machine right now."""

    def notes(self) -> list[str]:
        """One line for each choice made on the user's behalf, printed at start."""
        return list(self.resolve().notes)

    def prep_server_args(self) -> list[str]:
        return [*self.args, *self.overrides]

    def prepared_argv(self) -> list[str]:
        """The argv ``start_server`` receives.

        2.x's ``prep_server_args()`` takes no argument; a 3.x backend may declare
        ``prep_server_args(extra_args)`` and is then handed the command-line options.
        """
        if _takes_extra_args(self.prep_server_args):
            return list(self.prep_server_args(tuple(self.overrides)))  # type: ignore[call-arg]
        return list(self.prep_server_args())

    def start_server(self, *args: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement start_server(*args)")

    # ----- read from the resolved value ------------------------------------------------------

    def check(self) -> list[ProdserverError]:
        """Problems found without starting anything; empty when all is well."""
        from django_prodserver.errors import ProdserverError

        try:
            self.refuse_misplaced_keys()  # also for custom backends, whose validate() may do nothing
            self.validate()
        except ProdserverError as exc:
            return [exc]
        return []

    def command(self) -> list[str]:
        """The equivalent shell command, for ``--list``, ``--dry-run`` and exporters."""
        return list(self.resolve().command)

    def shell_command(self) -> str:
        return self.resolve().shell_command()

    def describe(self) -> list[tuple[str, str, str]]:
        """(option, origin, source) rows for ``--dry-run``."""
        return [(row.option, row.origin, row.source) for row in self.resolve().rows]


class BaseServerBackend(BaseProcessBackend):
    """A process that serves HTTP: 2.x's base for every backend, 3.x's for web servers."""


class BaseWorkerBackend(BaseProcessBackend):
    """A background worker (3.x): runs under ``manage.py worker``, serves no HTTP."""

    kind: ClassVar[Kind] = "worker"


def _takes_extra_args(method: Any) -> bool:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)

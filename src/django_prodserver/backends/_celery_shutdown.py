"""What SIGTERM does to a Celery worker: the process' ``SHUTDOWN`` setting.

``"soft"`` (the default) runs the worker with ``REMAP_SIGTERM=SIGQUIT``. Pool processes then
ignore SIGTERM, so a platform that signals every process (systemd's default
``KillMode=control-group``, Heroku, a process-group kill) does not kill the task in progress;
the main process starts Celery's soft shutdown: running tasks get
``worker_soft_shutdown_timeout`` seconds (20 s when the app leaves it at 0, below the 25 s
after which prodserver's supervisor, and the 30 s after which Kubernetes and Heroku, kill),
then whatever still runs is cancelled, and with ``task_acks_late`` goes back to the queue.

``"warm"`` is Celery's own default: SIGTERM waits for running tasks however long they take.
Only safe where SIGTERM reaches the main process alone (Docker and Kubernetes signal PID 1;
systemd with ``KillMode=mixed``): otherwise the pool processes die with their task.

Celery 5.3 and 5.4 have no soft shutdown (SIGQUIT there is a cold one that kills running
tasks), so with them the default is ``"warm"``, said in one start-up note, and ``"soft"`` is
refused. The soft timeout stays inside ``PRODSERVER_SUPERVISOR['SHUTDOWN_TIMEOUT']``: the
supervisor's one deadline for the group must not kill a worker whose tasks still have time.

Billiard and Celery read ``REMAP_SIGTERM`` when they are imported, and validating the options
imports them, so the worker re-executes itself (same PID) with the variable set when the
environment does not match the mode yet.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING, Literal

from django_prodserver.collector import COMMANDS
from django_prodserver.errors import ConfigurationError, StartupError
from django_prodserver.records import record
from django_prodserver.resolved import Row

if TYPE_CHECKING:
    from celery import Celery

Mode = Literal["soft", "warm"]
#: Windows has no SIGQUIT to remap SIGTERM onto (nor process groups to signal).
DEFAULT_MODE: Mode = "soft" if hasattr(signal, "SIGQUIT") else "warm"
#: Seconds running tasks get after SIGTERM in soft mode, when the app sets no timeout itself.
DEFAULT_SOFT_TIMEOUT = 20.0
REMAP = "REMAP_SIGTERM"
#: Set in the re-executed process, so a mismatch there is reported instead of looping.
REEXEC_MARK = "PRODSERVER_CELERY_REEXEC"


def soft_shutdown_available() -> bool:
    """Celery 5.5 added the soft shutdown, and with it the worker_soft_shutdown_timeout setting."""
    from celery.app.defaults import DEFAULTS

    return "worker_soft_shutdown_timeout" in DEFAULTS


def celery_version() -> str:
    import celery

    return str(celery.__version__)


@record
class Shutdown:
    """What SIGTERM does to one Celery worker, built once from SHUTDOWN and the app's config."""

    process: str
    mode: Mode
    #: Seconds running tasks get in soft mode: the app's own timeout, else our default.
    soft_timeout: float
    #: Whether the app set worker_soft_shutdown_timeout itself (for --dry-run's "from where").
    app_timeout: bool
    #: task_acks_late: a task cut short goes back to the queue instead of being lost.
    acks_late: bool
    #: Why the mode is warm without SHUTDOWN saying so (a Celery without soft shutdown).
    warm_because: str = ""

    @classmethod
    def of(cls, process: str, mode: Mode | None, app: Celery, deadline: float) -> Shutdown:
        """``deadline``: the supervisor's SHUTDOWN_TIMEOUT, which the soft timeout must fit in."""
        warm_because = ""
        if not soft_shutdown_available():
            if mode == "soft":
                raise StartupError(
                    f"Process {process!r}: SHUTDOWN 'soft' needs Celery 5.5 or later (installed: "
                    f"{celery_version()}); upgrade Celery, or set SHUTDOWN 'warm'."
                )
            if mode is None:
                warm_because = f"Celery {celery_version()} has no soft shutdown (5.5 added it)"
            mode = "warm"
        # getattr: a Celery without the setting raises AttributeError for it.
        own = float(getattr(app.conf, "worker_soft_shutdown_timeout", 0) or 0)
        if own and own >= deadline:
            raise ConfigurationError(
                f"Process {process!r}: the Celery app's worker_soft_shutdown_timeout ({own:g} s) is not "
                f"below PRODSERVER_SUPERVISOR['SHUTDOWN_TIMEOUT'] ({deadline:g} s), so running tasks "
                "would be killed before their time is up; lower the one or raise the other."
            )
        return cls(
            process=process,
            mode=mode or DEFAULT_MODE,
            # Inside the supervisor's deadline, with room for the worker to stop after it.
            soft_timeout=own or min(DEFAULT_SOFT_TIMEOUT, deadline * 0.8),
            app_timeout=bool(own),
            acks_late=bool(getattr(app.conf, "task_acks_late", False)),
            warm_because=warm_because,
        )

    @property
    def remap(self) -> str | None:
        """The REMAP_SIGTERM the worker must be imported with."""
        return "SIGQUIT" if self.mode == "soft" else None

    def needs_reexec(self) -> bool:
        import billiard.common

        return (billiard.common.REMAP_SIGTERM or None) != self.remap

    def prepare(self, app: Celery) -> None:
        """Make this process' signal handling match the mode; may re-execute it."""
        if self.needs_reexec():
            self._reexec()
        if self.mode == "soft":
            app.conf.worker_soft_shutdown_timeout = self.soft_timeout

    def _reexec(self) -> None:
        if os.environ.get(REEXEC_MARK) or len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
            # Not started as 'manage.py prodserver …' (or the restart did not take): do not guess
            # a command line to re-run.
            needed = f"{REMAP}={self.remap}" if self.remap else f"no {REMAP}"
            raise StartupError(
                f"Process {self.process!r}: SHUTDOWN {self.mode!r} needs {needed} in the environment "
                "before Celery is imported; set it where the worker is started."
            )
        from django.db import connections

        connections.close_all()
        sys.stdout.flush()
        sys.stderr.flush()
        env = {key: value for key, value in os.environ.items() if key != REMAP}
        if self.remap:
            env[REMAP] = self.remap
        env[REEXEC_MARK] = "1"
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)  # noqa: S606

    def notes(self) -> list[str]:
        if self.needs_reexec():
            return []  # said once, by the process that runs the worker
        if self.warm_because:
            return [
                f"{self.process}: {self.warm_because}: SIGTERM waits for running tasks however long "
                "they take (warm shutdown); send it to the main process only."
            ]
        if self.mode == "warm":
            return [
                f"{self.process}: SHUTDOWN 'warm': SIGTERM waits for running tasks however long they "
                "take; send it to the main process only."
            ]
        then = (
            "go back to the queue (task_acks_late)"
            if self.acks_late
            else "are lost: set task_acks_late to requeue them"
        )
        return [
            f"{self.process}: SHUTDOWN 'soft': SIGTERM gives running tasks {self.soft_timeout:g} s "
            f"(worker_soft_shutdown_timeout), then unfinished ones {then}."
        ]

    def budget(self) -> tuple[float | None, str]:
        """Seconds running tasks get after SIGTERM, and from where; None when warm (unbounded)."""
        if self.mode == "warm":
            return None, ""
        if self.app_timeout:
            return self.soft_timeout, "the app's worker_soft_shutdown_timeout"
        return self.soft_timeout, f"SHUTDOWN {self.mode!r} (worker_soft_shutdown_timeout)"

    def environment_prefix(self) -> list[str]:
        return ["env", f"{REMAP}={self.remap}"] if self.remap else []

    def rows(self) -> list[Row]:
        if self.mode == "warm":
            return []
        origin = f"SHUTDOWN {self.mode!r}"
        return [
            Row(f"{REMAP}=SIGQUIT", "backend", origin),
            Row(
                f"worker_soft_shutdown_timeout={self.soft_timeout:g}",
                "backend",
                "the app" if self.app_timeout else origin,
            ),
        ]

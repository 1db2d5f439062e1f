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

Billiard and Celery read ``REMAP_SIGTERM`` when they are imported, and validating the options
imports them, so the worker re-executes itself (same PID) with the variable set when the
environment does not match the mode yet.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING

from django_prodserver.errors import ProdserverError, StartupError

if TYPE_CHECKING:
    from celery import Celery

    from django_prodserver.backends.celery import CeleryWorker

MODES = ("soft", "warm")
#: Windows has no SIGQUIT to remap SIGTERM onto (nor process groups to signal).
DEFAULT_MODE = "soft" if hasattr(signal, "SIGQUIT") else "warm"
#: Seconds running tasks get after SIGTERM in soft mode, when the app sets no timeout itself.
DEFAULT_SOFT_TIMEOUT = 20.0
REMAP = "REMAP_SIGTERM"
#: Set in the re-executed process, so a mismatch there is reported instead of looping.
REEXEC_MARK = "PRODSERVER_CELERY_REEXEC"


def mode(backend: CeleryWorker) -> str:
    value = backend.server_args.get("SHUTDOWN", DEFAULT_MODE)
    if value not in MODES:
        raise ProdserverError(
            f"Process {backend.name!r}: SHUTDOWN = {value!r} is not a Celery shutdown mode; use "
            "'soft' (the default: SIGTERM gives running tasks a bounded time) or 'warm' "
            "(SIGTERM waits for them however long)."
        )
    return str(value)


def _wanted_remap(backend: CeleryWorker) -> str | None:
    return "SIGQUIT" if mode(backend) == "soft" else None


def _needs_reexec(backend: CeleryWorker) -> bool:
    import billiard.common

    return (billiard.common.REMAP_SIGTERM or None) != _wanted_remap(backend)


def soft_timeout(app: Celery) -> float:
    return float(app.conf.worker_soft_shutdown_timeout or DEFAULT_SOFT_TIMEOUT)


def prepare(backend: CeleryWorker, app: Celery) -> None:
    """Make this process' signal handling match the mode; may re-execute it."""
    if _needs_reexec(backend):
        _reexec(backend)
    if mode(backend) == "soft":
        app.conf.worker_soft_shutdown_timeout = soft_timeout(app)


def _reexec(backend: CeleryWorker) -> None:
    wanted = _wanted_remap(backend)
    if os.environ.get(REEXEC_MARK) or "prodserver" not in sys.argv[1:]:
        # Not started as 'manage.py prodserver …' (or the restart did not take): do not guess
        # a command line to re-run.
        needed = f"{REMAP}={wanted}" if wanted else f"no {REMAP}"
        raise StartupError(
            f"Process {backend.name!r}: SHUTDOWN {mode(backend)!r} needs {needed} in the environment "
            "before Celery is imported; set it where the worker is started."
        )
    from django.db import connections

    connections.close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    env = {key: value for key, value in os.environ.items() if key != REMAP}
    if wanted:
        env[REMAP] = wanted
    env[REEXEC_MARK] = "1"
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)  # noqa: S606


def notes(backend: CeleryWorker, app: Celery) -> list[str]:
    if _needs_reexec(backend):
        return []  # said once, by the process that runs the worker
    if mode(backend) == "warm":
        return [
            f"{backend.name}: SHUTDOWN 'warm': SIGTERM waits for running tasks however long they "
            "take; send it to the main process only."
        ]
    late = bool(app.conf.task_acks_late)
    then = "go back to the queue (task_acks_late)" if late else "are lost: set task_acks_late to requeue them"
    return [
        f"{backend.name}: SHUTDOWN 'soft': SIGTERM gives running tasks {soft_timeout(app):g} s "
        f"(worker_soft_shutdown_timeout), then unfinished ones {then}."
    ]


def environment_prefix(backend: CeleryWorker) -> list[str]:
    wanted = _wanted_remap(backend)
    return ["env", f"{REMAP}={wanted}"] if wanted else []


def describe(backend: CeleryWorker, app: Celery) -> list[tuple[str, str, str]]:
    if mode(backend) == "warm":
        return []
    origin = f"SHUTDOWN {mode(backend)!r}"
    timeout_origin = "the app" if app.conf.worker_soft_shutdown_timeout else origin
    return [
        (f"{REMAP}=SIGQUIT", origin, "backend"),
        (f"worker_soft_shutdown_timeout={soft_timeout(app):g}", timeout_origin, "backend"),
    ]

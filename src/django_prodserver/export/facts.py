"""The per-process facts every exporter writes, read once from what prodserver already knows.

Each format module only lays these facts out in its platform's syntax; none of them reads a
setting or resolves a backend. The stop signal, restart policy and one-shot flag come from the
process' :class:`~django_prodserver.conf.processes.ProcessConfig`; the kind, the port, the drain and the
graceful budget from the backend's resolved value; the probe paths and the worker checks'
timings from ``PRODSERVER_HEALTH``. The files are for another machine, so the backends
resolve with the platform contract as the files set it (:func:`platform.exported`), never
this shell's ``PORT``. Values of ARGS and of the environment are never copied: every
generated command is ``python manage.py prodserver NAME``, so the setting stays the one
source of truth and nothing secret ends up in a file that gets committed.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from django_prodserver import platform
from django_prodserver.backends.base import BaseProcessBackend
from django_prodserver.conf import health_settings, supervisor_settings
from django_prodserver.conf.processes import ProcessConfig, RestartPolicy, all_processes, get_process
from django_prodserver.loading import load_backend
from django_prodserver.records import record, replace
from django_prodserver.resolved import Resolved

Role = Literal["web", "worker"]

#: Seconds a platform waits beyond the graceful budget before SIGKILL: the budget is what the
#: program gives requests in flight, the margin lets it exit after that and flush its logs.
STOP_MARGIN_SECONDS = 5

#: Hosts only this machine reaches: a web process bound there is unreachable in a container.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

MANAGE = ("python", "manage.py", "prodserver")

#: Seconds a worker's ``--healthcheck`` may take: ``manage.py`` sets Django up first (every
#: installed app and its models), which takes seconds in a container given a fraction of a CPU.
WORKER_PROBE_TIMEOUT = 10


@record
class ProcessFacts:
    name: str
    role: Role
    #: The backend's program ("gunicorn", "db_worker"), for comments only.
    program: str
    #: What the platform runs, exec form: ``python manage.py prodserver NAME``.
    argv: tuple[str, ...]
    stop_signal: str
    #: What the program gives work in flight after the stop signal.
    graceful_seconds: int
    #: Seconds a web process keeps serving after the stop signal, readiness failing, before
    #: it starts to stop (the process' DRAIN; a load balancer still routes to it meanwhile).
    drain_seconds: int
    restart: RestartPolicy
    #: The TCP port a web process binds (None for workers and socket-only servers).
    port: int | None
    #: Whether a web process speaks TLS on its port (probes then use HTTPS).
    tls: bool
    #: True when a web process binds only the loopback interface (unreachable in a container).
    loopback: bool
    #: True for a worker that records a heartbeat, which ``--healthcheck NAME`` reads.
    heartbeat: bool
    #: One comment line per value, saying where it came from.
    provenance: tuple[str, ...]

    @property
    def stop_seconds(self) -> int:
        """How long the platform must wait after the stop signal before it may SIGKILL."""
        return self.drain_seconds + self.graceful_seconds + STOP_MARGIN_SECONDS

    @property
    def healthcheck(self) -> tuple[str, ...]:
        """The probe, exec form. ``manage.py`` rather than ``python -m django_prodserver``: it
        works wherever the process' own command does, because ``manage.py`` sets
        ``DJANGO_SETTINGS_MODULE``, which the cheaper form needs in the environment (and which
        names the heartbeat file, so probe and worker must agree on it)."""
        return (*MANAGE, "--healthcheck", self.name)


@record
class WorkerProbe:
    """When a platform runs a worker's heartbeat check, from ``PRODSERVER_HEALTH``.

    The check already waits ``HEARTBEAT_MAX_AGE`` before it calls a silent worker dead, so
    probing more often than twice per max age only spends CPU (each probe sets Django up).
    Two failures in a row restart the worker, so one probe that ran out of time is not a
    restart: a worker whose loop stopped is restarted about two max ages after its last beat.
    The first probe counts after one max age, the time a worker has to start beating.
    """

    period: int
    failures: int
    start: int
    timeout: int
    max_age: float
    #: ``HEARTBEAT_DIR``, or None: the container's temporary directory (``/tmp``).
    directory: str | None

    @classmethod
    def of(cls, health: health_settings.HealthConfig) -> WorkerProbe:
        return cls(
            period=math.ceil(health.heartbeat_max_age / 2),
            failures=2,
            start=math.ceil(health.heartbeat_max_age),
            timeout=WORKER_PROBE_TIMEOUT,
            max_age=health.heartbeat_max_age,
            directory=health.heartbeat_dir,
        )

    def comment(self, process: ProcessFacts) -> tuple[str, ...]:
        """The provenance line of a worker's liveness check (none for a worker without one)."""
        if not process.heartbeat:
            return ()
        return (
            f"  liveness: 'prodserver --healthcheck {process.name}' every {self.period} s, unhealthy after "
            f"{self.failures} failed probes, the first counted after {self.start} s "
            f"(HEARTBEAT_MAX_AGE {self.max_age:g} s)",
        )


@record
class ReleaseStep:
    """The one-shots (``ONESHOT: True``), run in settings order before anything else starts."""

    #: The one-shot's own name, or "release" when several run as one step.
    name: str
    names: tuple[str, ...]
    argv: tuple[str, ...]
    stop_seconds: int
    provenance: tuple[str, ...]


@record
class Project:
    processes: tuple[ProcessFacts, ...]
    release: ReleaseStep | None
    liveness_path: str
    readiness_path: str
    worker_probe: WorkerProbe
    #: Whether the image build runs collectstatic (staticfiles installed and STATIC_ROOT set).
    collectstatic: bool
    #: Absolute paths for the init-system formats (systemd, supervisord) only.
    python: str
    directory: str

    @property
    def slug(self) -> str:
        """The project directory's name: unit, group and image names start with it."""
        return re.sub(r"[^A-Za-z0-9_.-]", "-", Path(self.directory).name) or "app"

    @property
    def web(self) -> tuple[ProcessFacts, ...]:
        return tuple(p for p in self.processes if p.role == "web")

    def absolute(self, argv: Sequence[str]) -> tuple[str, ...]:
        """``python manage.py …`` with this interpreter and this project's manage.py."""
        return (self.python, str(Path(self.directory) / "manage.py"), *argv[2:])


def graceful_budget() -> tuple[int, str]:
    """The longest a prodserver stop takes: the backends' default budget, or the supervisor's
    if longer. For several processes under one supervisor, and for a process whose own budget
    prodserver cannot read."""
    shutdown = supervisor_settings.supervisor().shutdown_timeout
    if shutdown > platform.GRACEFUL_SECONDS:
        return math.ceil(shutdown), "PRODSERVER_SUPERVISOR['SHUTDOWN_TIMEOUT']"
    return platform.GRACEFUL_SECONDS, "prodserver's default graceful budget"


def process_budget(resolved: Resolved) -> tuple[int, str]:
    """What the process gives work in flight after the stop signal, in whole seconds, and why."""
    if resolved.graceful_seconds is not None:
        return math.ceil(resolved.graceful_seconds), resolved.graceful_origin
    budget, why = graceful_budget()
    return budget, f"{why}: {resolved.program} sets no bound prodserver reads"


def process_facts(process: ProcessConfig, backend: BaseProcessBackend) -> ProcessFacts:
    resolved = backend.resolve()
    listen = resolved.serving.listen if resolved.serving else ()
    budget, budget_why = process_budget(resolved)
    facts = ProcessFacts(
        name=process.name,
        role="web" if resolved.kind == "server" else "worker",
        program=resolved.program,
        argv=(*MANAGE, process.name),
        stop_signal=process.stop_signal.name,
        graceful_seconds=budget,
        drain_seconds=math.ceil(resolved.drain),
        restart=process.restart,
        port=listen[0][1] if listen else None,
        tls=bool(resolved.serving and resolved.serving.tls),
        loopback=bool(listen) and all(host.strip() in LOOPBACK for host, _ in listen),
        # The same test as --healthcheck's: only these workers have something to check.
        heartbeat=backend.records_heartbeat,
        provenance=(),
    )
    return replace(facts, provenance=_provenance(process, facts, budget_why))


def _provenance(process: ProcessConfig, facts: ProcessFacts, budget_why: str) -> tuple[str, ...]:
    signal_why = "STOP_SIGNAL" if "STOP_SIGNAL" in process.raw else "the default"
    drain = f"{facts.drain_seconds} s drain + " if facts.drain_seconds else ""
    lines = [
        f"{facts.name}: {facts.role} process, {facts.program} ({process.backend})",
        f"  stop signal {facts.stop_signal} ({signal_why}); SIGKILL after {facts.stop_seconds} s = "
        f"{drain}{facts.graceful_seconds} s graceful ({budget_why}) + {STOP_MARGIN_SECONDS} s margin",
        f"  restart {facts.restart} (RESTART)",
    ]
    if facts.port is not None:
        dry_run = f"PORT={platform.EXPORT_PORT} prodserver {facts.name} --dry-run"
        lines.append(f"  port {facts.port} (what '{dry_run}' binds)")
    if facts.loopback:
        lines.append(
            "  NOTE: it binds only the loopback interface, which a container's published port or a "
            "platform's router cannot reach; bind 0.0.0.0 there (or leave the address to PORT)"
        )
    return tuple(lines)


def release_step(oneshots: Sequence[ProcessConfig]) -> ReleaseStep | None:
    if not oneshots:
        return None
    names = tuple(p.name for p in oneshots)
    budget, budget_why = graceful_budget()
    return ReleaseStep(
        name=names[0] if len(names) == 1 else "release",
        names=names,
        argv=(*MANAGE, *names),
        stop_seconds=budget + STOP_MARGIN_SECONDS,
        provenance=(f"{', '.join(names)}: one-shot (ONESHOT), runs to completion before the others start",),
    )


def project(names: Sequence[str] = (), directory: str | None = None) -> Project:
    """The facts for the named processes (every configured one when none is named)."""
    processes = [get_process(name) for name in dict.fromkeys(names)] if names else all_processes()
    environ = platform.exported()
    backends = {p.name: load_backend(p, environ=environ) for p in processes}
    for backend in backends.values():
        # A file that starts a process which cannot start helps nobody: refuse what --check would.
        backend.validate()
    health = health_settings.health()
    return Project(
        processes=tuple(process_facts(p, backends[p.name]) for p in processes if not p.oneshot),
        release=release_step([p for p in processes if p.oneshot]),
        collectstatic=collects_static(),
        liveness_path=health.liveness_path,
        readiness_path=health.readiness_path,
        worker_probe=WorkerProbe.of(health),
        python=os.path.abspath(sys.executable),
        directory=directory or project_directory(),
    )


def project_directory() -> str:
    """Where manage.py is: the systemd and supervisord units run there."""
    script = Path(sys.argv[0])
    if script.name == "manage.py":
        return str(script.resolve().parent)
    return str(Path.cwd())


def collects_static() -> bool:
    """Whether ``collectstatic`` can run at image build: only the presence of the settings matters."""
    from django.apps import apps
    from django.conf import settings

    return apps.is_installed("django.contrib.staticfiles") and bool(getattr(settings, "STATIC_ROOT", None))

"""Worker liveness: a file the worker rewrites while it runs, read by ``--healthcheck``.

``celery inspect ping`` imports the whole project, talks to the broker and waits for replies,
and fails during a broker outage that a restart cannot fix. A heartbeat file answers
"is this worker's process running and scheduled?" by reading one ``stat()``: the worker
rewrites it every ``HEARTBEAT_INTERVAL`` seconds from a thread of its own process, so a
frozen process (SIGSTOP, a stuck host) or an exited one stops it, while a broker outage does
not (liveness is not readiness: the worker waits for its broker, a restart would not help).

The file holds the worker's pid, so a process killed without clean-up (SIGKILL, OOM) reads as
dead at once instead of after ``HEARTBEAT_MAX_AGE``. It lives in ``HEARTBEAT_DIR``, by
default a directory under the system's temporary directory: writable with a read-only root
file system as long as /tmp is an ``emptyDir`` (Kubernetes) or a tmpfs (Docker).

It also carries the worker's readiness (:mod:`.reach`): ``"ready"`` and, when not, a one-line
``"reason"``. ``--healthcheck`` reports it and still exits 0; ``--healthcheck --ready`` exits 1.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from django_prodserver.conf.health_settings import HEALTH_SETTING, HealthConfig
from django_prodserver.errors import ProdserverError, StartupError

if TYPE_CHECKING:
    from django_prodserver.reach import Reach

#: The supervisor's list of the long-running processes it runs, beside the heartbeats.
MANIFEST = "supervisor.json"


class Dead(ProdserverError):
    """The worker's heartbeat is missing, stale, or names a process that is gone."""


class NotReady(ProdserverError):
    """The worker is alive but cannot reach what it works from (``--healthcheck --ready`` only)."""


def directory(config: HealthConfig) -> Path:
    if config.heartbeat_dir:
        return Path(config.heartbeat_dir)
    return Path(tempfile.gettempdir()) / f"django-prodserver-{os.getuid()}"


def path(config: HealthConfig, name: str) -> Path:
    # Two projects sharing /tmp may both have a process called "worker": the settings
    # module tells them apart (the probe runs with the same settings as the worker).
    project = os.environ.get("DJANGO_SETTINGS_MODULE", "project")
    return directory(config) / f"{project}.{name}.heartbeat"


def describe(name: str, config: HealthConfig) -> str:
    """One line for ``--dry-run``: where the heartbeat goes and when it counts as dead."""
    return (
        f"heartbeat: {path(config, name)} every {config.heartbeat_interval:g} s, dead after "
        f"{config.heartbeat_max_age:g} s ({HEALTH_SETTING}); check it with "
        f"'manage.py prodserver --healthcheck {name}'"
    )


def _write(target: Path, payload: dict[str, object]) -> None:
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    partial.write_text(json.dumps(payload))
    os.replace(partial, target)  # atomic: a probe never reads half a file


class Heartbeat:
    """Rewrites the process' heartbeat file every interval from a daemon thread."""

    def __init__(self, name: str, config: HealthConfig) -> None:
        self.name = name
        #: Set by :func:`recording`: the readiness each beat records (None: none recorded).
        self.reach: Reach | None = None
        self.file = path(config, name)
        self.interval = config.heartbeat_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = 0.0

    def prepare(self) -> None:
        """Create the directory and try a write, so an unwritable place stops the start in one line.

        The file itself is removed again: it appears only once the worker's loop runs.
        """
        try:
            self.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.beat()
            self.file.unlink()
            self._last = 0.0
        except OSError as exc:
            raise StartupError(
                f"Process {self.name!r}: cannot write its heartbeat to {self.file.parent}: "
                f"{exc.strerror or exc}; set {HEALTH_SETTING}['HEARTBEAT_DIR'] to a writable "
                "directory (e.g. an emptyDir volume)."
            ) from None

    def beat(self) -> None:
        payload: dict[str, object] = {"pid": os.getpid(), "interval": self.interval}
        if self.reach is not None:
            reason = self.reach.verdict()
            payload.update(ready=reason is None, reason=reason or "")
        _write(self.file, payload)
        self._last = time.monotonic()

    def beat_if_due(self) -> None:
        """Beat from a worker's own loop, at most once per interval however fast it turns."""
        if time.monotonic() - self._last >= self.interval:
            self.beat()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="prodserver-heartbeat", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        main = threading.main_thread()
        while main.is_alive():
            # A full disk: the heartbeat goes stale and the probe says how old it is.
            with suppress(OSError):
                self.beat()
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        if self.reach is not None:
            self.reach.stop()
        self.file.unlink(missing_ok=True)


@contextmanager
def recording(
    name: str, config: HealthConfig, *, start: bool = True, reach: Reach | None = None
) -> Iterator[Heartbeat]:
    """A heartbeat for the block; ``start=False`` leaves starting it to the worker's own signal."""
    heart = Heartbeat(name, config)
    heart.prepare()
    heart.reach = reach  # after the trial write: readiness is checked once the loop runs
    if start:
        heart.start()
    try:
        yield heart
    finally:
        heart.stop()


def check(name: str, config: HealthConfig, now: float | None = None, *, ready: bool = False) -> str:
    """One line saying the worker is alive; raises :class:`Dead` with how old its heartbeat is.

    A worker that is alive but not ready passes (a restart cannot bring its broker back) with
    a line that says why; ``ready=True`` raises :class:`NotReady` for it instead.
    """
    file = path(config, name)
    try:
        age = (time.time() if now is None else now) - file.stat().st_mtime
        payload = json.loads(file.read_text())
    except FileNotFoundError:
        raise Dead(f"{name}: dead: no heartbeat at {file}; is the worker running on this machine?") from None
    except (OSError, ValueError) as exc:
        raise Dead(f"{name}: dead: cannot read its heartbeat {file}: {exc}.") from None
    pid = payload.get("pid") if isinstance(payload, dict) else None
    if isinstance(pid, int) and not _running(pid):
        raise Dead(f"{name}: dead: process {pid} that wrote {file} is gone.")
    limit = config.heartbeat_max_age
    if age > limit:
        raise Dead(f"{name}: dead: last heartbeat {age:.0f} s ago (limit {limit:g} s), from process {pid}.")
    beating = f"heartbeat {max(age, 0):.1f} s ago from process {pid}"
    if isinstance(payload, dict) and payload.get("ready") is False:
        reason = str(payload.get("reason") or "unknown")
        if ready:
            raise NotReady(f"{name}: not ready: {reason} (alive: {beating}).")
        return f"{name}: alive, not ready: {reason} ({beating})"
    return f"{name}: alive: {beating}"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


# ----- the supervisor's manifest --------------------------------------------------------------


def write_manifest(config: HealthConfig, names: Sequence[str]) -> Path | None:
    """Record which long-running processes this supervisor runs (None: the place is not writable)."""
    file = directory(config) / f"{os.environ.get('DJANGO_SETTINGS_MODULE', 'project')}.{MANIFEST}"
    try:
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write(file, {"pid": os.getpid(), "names": list(names)})
    except OSError:
        return None
    return file


def supervised(config: HealthConfig) -> list[str] | None:
    """The processes a running supervisor on this machine runs, or None when none runs."""
    file = directory(config) / f"{os.environ.get('DJANGO_SETTINGS_MODULE', 'project')}.{MANIFEST}"
    try:
        payload = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    pid, names = payload.get("pid"), payload.get("names")
    if not (isinstance(pid, int) and _running(pid) and isinstance(names, list)):
        return None
    return [str(name) for name in names]

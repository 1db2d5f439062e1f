"""The platform contract shared by every web backend, and the default worker count.

PaaS and container platforms talk to a web process through a few environment variables
(``PORT``, ``WEB_CONCURRENCY``, ``FORWARDED_ALLOW_IPS``). Each backend maps them onto its own
options; this module reads them and sizes workers by the CPUs the container may really use
(its cgroup CPU quota), not the host's core count: a pod limited to 2 CPUs on a 64-core node
must not start 129 gunicorn workers.
"""

from __future__ import annotations

import math
import os
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath

from django_prodserver.errors import PlatformValueError
from django_prodserver.records import record

CGROUP_ROOT = Path("/sys/fs/cgroup")

#: More worker processes than this is a typo (``WEB_CONCURRENCY=100000`` forks until the
#: machine falls over), not a sizing: 1024 is eight per CPU on a 128-core host.
MAX_CONCURRENCY = 1024

#: Seconds a server keeps an idle connection open: above common load-balancer idle timeouts
#: (AWS ALB and GCP: 60 s), so the balancer, not the server, closes idle connections and
#: never reuses one the server already closed (the classic intermittent 502).
KEEP_ALIVE_SECONDS = 75

#: Seconds a server (or the supervisor) gives work in flight after SIGTERM: inside the 30 s
#: that Kubernetes, Heroku and ``docker stop`` wait before SIGKILL.
GRACEFUL_SECONDS = 25
#: Which cgroup this process is in, per hierarchy (``0::/path`` for v2, ``N:cpu,cpuacct:/path`` for v1).
SELF_CGROUP = Path("/proc/self/cgroup")
#: Where cgroup v1 mounts the CPU controller (the directory name lists the co-mounted controllers).
_V1_CPU_MOUNTS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")


@record
class CpuBudget:
    cpus: float
    reason: str

    @property
    def whole(self) -> int:
        """Whole CPUs to size by: a 1.5-CPU quota can keep two workers busy half the time."""
        return max(1, math.ceil(self.cpus))


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _own_paths(self_cgroup: Path) -> tuple[str, str]:
    """This process' cgroup path in the v2 hierarchy and in the v1 CPU hierarchy ("/" if unknown)."""
    v2 = v1 = "/"
    for line in (_read(self_cgroup) or "").splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:
            v2 = path or "/"
        elif "cpu" in controllers.split(","):
            v1 = path or "/"
    return v2, v1


def _upwards(mount: Path, cgroup_path: str) -> Iterator[Path]:
    """``mount/a/b``, ``mount/a``, ``mount``: a limit on any ancestor applies to us too.

    Inside a container the mount usually *is* our cgroup (cgroup namespaces, or v1 bind
    mounts), so the path from ``/proc/self/cgroup`` may not exist below it; the missing
    directories are simply skipped and the mount itself is read.
    """
    parts = PurePosixPath(cgroup_path).parts[1:]
    for depth in range(len(parts), -1, -1):
        yield mount.joinpath(*parts[:depth])


def _v2_limit(directory: Path) -> tuple[float, str] | None:
    text = _read(directory / "cpu.max")
    if not text:
        return None
    quota, _, period = text.partition(" ")
    try:
        if quota == "max" or int(period or 100000) <= 0:
            return None
        return int(quota) / int(period or 100000), f"cgroup v2 cpu.max {text!r}"
    except ValueError:
        return None


def _v1_limit(directory: Path) -> tuple[float, str] | None:
    quota = _read(directory / "cpu.cfs_quota_us")
    period = _read(directory / "cpu.cfs_period_us")
    try:
        if quota is None or period is None or int(quota) <= 0 or int(period) <= 0:
            return None  # -1: no quota
        return int(quota) / int(period), f"cgroup v1 cpu.cfs_quota_us={quota} cpu.cfs_period_us={period}"
    except ValueError:
        return None


def cgroup_quota(root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> CpuBudget | None:
    """CPUs allowed by the tightest cgroup CPU quota on this process' cgroup or its ancestors."""
    v2_path, v1_path = _own_paths(self_cgroup)
    limits = [limit for d in _upwards(root, v2_path) if (limit := _v2_limit(d))]
    if not limits:
        for mount in _V1_CPU_MOUNTS:
            limits += [limit for d in _upwards(root / mount, v1_path) if (limit := _v1_limit(d))]
    if not limits:
        return None
    cpus, reason = min(limits)
    return CpuBudget(cpus, f"{_cpus(cpus)} allowed by {reason}")


def _cpus(count: float) -> str:
    text = f"{count:g}"
    return f"{text} CPU" if count == 1 else f"{text} CPUs"


def cpu_budget(root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> CpuBudget:
    """The CPUs this process may use: affinity (``taskset``, cpusets) and cgroup quota, the lower."""
    try:
        usable = len(os.sched_getaffinity(0))
        where = "available to this process"
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
        where = "on this machine"
    quota = cgroup_quota(root, self_cgroup)
    if quota is not None and quota.cpus < usable:
        return quota
    return CpuBudget(usable, f"{_cpus(usable)} {where}")


def default_workers(kind: str, root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> tuple[int, str]:
    """Worker count for a server of ``kind`` ("sync": blocking workers, else one per CPU), and why.

    Blocking (WSGI sync) workers spend much of a request waiting on the database, so more
    than one per CPU pays off: gunicorn's documented ``2 x CPUs + 1``. Event-loop workers
    each keep a CPU busy on their own: one per CPU.
    """
    budget = cpu_budget(root, self_cgroup)
    if kind == "sync":
        count = 2 * budget.whole + 1
        return count, f"2 x {budget.whole} + 1 for blocking workers ({budget.reason})"
    return budget.whole, f"one per CPU ({budget.reason})"


#: The ``PORT`` the exports set for a web process whose ARGS leave its address to ``PORT``
#: (the port every supported server listens on by default).
EXPORT_PORT = 8000


def exported() -> dict[str, str]:
    """The environment of the machine an export is for, as far as the exported files set it.

    Nothing of this shell says anything about that machine: not its ``PORT``,
    ``WEB_CONCURRENCY`` or ``FORWARDED_ALLOW_IPS``, nor a program's own variables
    (``GUNICORN_CMD_ARGS``, ``UVICORN_*``, ``GRANIAN_*``), which the program reads there
    itself. So the same settings export the same files whatever the shell has set.
    """
    return {"PORT": str(EXPORT_PORT)}


def env_port(environ: Mapping[str, str]) -> str | None:
    value = environ.get("PORT", "").strip()
    return value or None


def env_concurrency(environ: Mapping[str, str]) -> str | None:
    value = environ.get("WEB_CONCURRENCY", "").strip()
    return value or None


def env_forwarded(environ: Mapping[str, str]) -> str | None:
    value = environ.get("FORWARDED_ALLOW_IPS", "").strip()
    return value or None


def _whole_number(value: str) -> int | None:
    """ASCII digits only: ``"²".isdigit()`` is true, but ``int("²")`` raises."""
    return int(value) if value.isascii() and value.isdigit() else None


def port_from_env(environ: Mapping[str, str], process: str) -> int | None:
    """``PORT`` as a TCP port, None when unset; anything else is one line naming the process."""
    value = env_port(environ)
    if value is None:
        return None
    port = _whole_number(value)
    if port is None or not 0 < port < 65536:
        raise PlatformValueError(
            f"Process {process!r}: PORT={value!r} is not a TCP port; set PORT to a number "
            "from 1 to 65535, or unset it."
        )
    return port


def concurrency_from_env(environ: Mapping[str, str], process: str) -> int | None:
    """``WEB_CONCURRENCY`` as a worker count, None when unset."""
    value = env_concurrency(environ)
    if value is None:
        return None
    count = _whole_number(value)
    if count is None or not 0 < count <= MAX_CONCURRENCY:
        raise PlatformValueError(
            f"Process {process!r}: WEB_CONCURRENCY={value!r} is not a worker count; set it to a "
            f"whole number from 1 to {MAX_CONCURRENCY}, or unset it."
        )
    return count


def gunicorn_args_from_env(environ: Mapping[str, str], process: str) -> list[str]:
    """``GUNICORN_CMD_ARGS`` split as gunicorn splits it (shlex); bad quoting is one line."""
    value = environ.get("GUNICORN_CMD_ARGS", "")
    try:
        return shlex.split(value)
    except ValueError as exc:
        raise PlatformValueError(
            f"Process {process!r}: GUNICORN_CMD_ARGS={value!r} cannot be split into arguments "
            f"({str(exc).lower()}); fix its quoting, or unset it."
        ) from None

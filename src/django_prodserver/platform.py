"""The platform contract shared by every web backend, and the default worker count.

PaaS and container platforms talk to a web process through a few environment variables
(``PORT``, ``WEB_CONCURRENCY``, ``FORWARDED_ALLOW_IPS``). Each backend maps them onto its own
options; this module reads them and sizes workers by the CPUs the container may really use
(its cgroup CPU quota), not the host's core count.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class CpuBudget:
    cpus: float
    reason: str

    @property
    def whole(self) -> int:
        return max(1, math.ceil(self.cpus))


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_quota(root: Path = CGROUP_ROOT) -> CpuBudget | None:
    """CPUs allowed by the cgroup CPU quota (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), if any."""
    v2 = _read(root / "cpu.max")
    if v2:
        quota, _, period = v2.partition(" ")
        if quota != "max" and period:
            return CpuBudget(int(quota) / int(period), f"cgroup v2 cpu.max {v2!r}")
        return None
    quota_text = _read(root / "cpu" / "cpu.cfs_quota_us") or _read(root / "cpu,cpuacct" / "cpu.cfs_quota_us")
    period_text = _read(root / "cpu" / "cpu.cfs_period_us") or _read(root / "cpu,cpuacct" / "cpu.cfs_period_us")
    if quota_text and period_text and int(quota_text) > 0:
        return CpuBudget(int(quota_text) / int(period_text), f"cgroup v1 cpu.cfs_quota_us={quota_text}")
    return None


def cpu_budget(root: Path = CGROUP_ROOT) -> CpuBudget:
    try:
        usable = len(os.sched_getaffinity(0))
        source = "CPUs available to this process"
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
        source = "CPUs on this machine"
    quota = cgroup_quota(root)
    if quota is not None and quota.cpus < usable:
        return quota
    return CpuBudget(usable, f"{usable} {source}")


def default_workers(kind: str, root: Path = CGROUP_ROOT) -> tuple[int, str]:
    """Worker count for a server of ``kind`` ("sync": blocking workers, else one per CPU).

    Blocking (WSGI sync) workers wait on I/O, so more than one per CPU pays off: the classic
    ``2 × CPUs + 1``. Event-loop and threaded workers each keep a CPU busy: one per CPU.
    """
    budget = cpu_budget(root)
    if kind == "sync":
        count = 2 * budget.whole + 1
        return count, f"2 x {budget.whole} CPU + 1 for blocking workers ({budget.reason})"
    return budget.whole, f"one per CPU ({budget.reason})"


def env_port(environ: Mapping[str, str]) -> str | None:
    value = environ.get("PORT", "").strip()
    return value or None


def env_concurrency(environ: Mapping[str, str]) -> str | None:
    value = environ.get("WEB_CONCURRENCY", "").strip()
    return value or None


def env_forwarded(environ: Mapping[str, str]) -> str | None:
    value = environ.get("FORWARDED_ALLOW_IPS", "").strip()
    return value or None

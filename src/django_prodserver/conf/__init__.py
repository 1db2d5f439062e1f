"""prodserver's settings, each read in one place and parsed into a frozen record (records.py).

- :mod:`~django_prodserver.conf.processes`: ``PRODUCTION_PROCESSES`` → :class:`ProcessConfig`
- :mod:`~django_prodserver.conf.health_settings`: ``PRODSERVER_HEALTH`` → :class:`HealthConfig`
- :mod:`~django_prodserver.conf.supervisor_settings`: ``PRODSERVER_SUPERVISOR`` → :class:`SupervisorConfig`
- :mod:`~django_prodserver.conf.keys`: the keys of those dicts, and "did you mean" for a typo

prodserver's own modules import from those. This package re-exports their names because
``django_prodserver.conf`` was one module, and projects and custom backends import
``get_process``, ``ProcessConfig``, ``health``, ``supervisor`` … from it. The two settings
modules are not named ``health``/``supervisor``: importing a submodule binds its name on the
package, which would then hide the re-exported function of the same name.

The supervisor's names are looked up when first asked for (PEP 562): ``prodserver web``
imports this package but never supervises, and need not build the supervisor's record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_prodserver.conf.health_settings import (
    HEALTH_KEYS,
    HEALTH_SETTING,
    SECONDS_LIMITS,
    HealthConfig,
    health,
)
from django_prodserver.conf.processes import (
    DRAIN_MAX_SECONDS,
    PROCESS_KEYS,
    RESTART_POLICIES,
    SETTING,
    SHUTDOWN_MODES,
    WARMUP_KEYS,
    WARMUP_POLICIES,
    ArgsValue,
    ProcessConfig,
    RestartPolicy,
    ShutdownMode,
    WarmupConfig,
    WarmupPolicy,
    all_processes,
    check_name,
    get_process,
    key_warnings,
    parse_process,
    process_names,
)

if TYPE_CHECKING:
    from django_prodserver.conf.supervisor_settings import (
        MAX_RETRIES,
        MAX_SECONDS,
        SUPERVISOR_KEYS,
        SUPERVISOR_SETTING,
        SupervisorConfig,
        supervisor,
    )

_SUPERVISOR_NAMES = frozenset(
    {"MAX_RETRIES", "MAX_SECONDS", "SUPERVISOR_KEYS", "SUPERVISOR_SETTING", "SupervisorConfig", "supervisor"}
)

__all__ = [
    "DRAIN_MAX_SECONDS",
    "HEALTH_KEYS",
    "HEALTH_SETTING",
    "MAX_RETRIES",
    "MAX_SECONDS",
    "PROCESS_KEYS",
    "RESTART_POLICIES",
    "SECONDS_LIMITS",
    "SETTING",
    "SHUTDOWN_MODES",
    "SUPERVISOR_KEYS",
    "SUPERVISOR_SETTING",
    "WARMUP_KEYS",
    "WARMUP_POLICIES",
    "ArgsValue",
    "HealthConfig",
    "ProcessConfig",
    "RestartPolicy",
    "ShutdownMode",
    "SupervisorConfig",
    "WarmupConfig",
    "WarmupPolicy",
    "all_processes",
    "check_name",
    "get_process",
    "health",
    "key_warnings",
    "parse_process",
    "process_names",
    "supervisor",
]


def __getattr__(name: str) -> Any:
    if name in _SUPERVISOR_NAMES:
        from django_prodserver.conf import supervisor_settings

        return getattr(supervisor_settings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

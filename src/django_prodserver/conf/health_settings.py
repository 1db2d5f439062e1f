"""``PRODSERVER_HEALTH``: where the probes answer, what readiness checks, how workers beat.

Read by the probe middleware and URLs, readiness, the heartbeats and ``--healthcheck``; each
of them receives a :class:`HealthConfig`, so the setting is checked in this one place.
"""

from __future__ import annotations

from typing import Any

from django_prodserver.conf.keys import dict_setting, setting_keys
from django_prodserver.errors import HealthSettingError
from django_prodserver.records import record

HEALTH_SETTING = "PRODSERVER_HEALTH"


@record
class HealthConfig:
    """``PRODSERVER_HEALTH``: where the probes answer and what readiness checks."""

    liveness_path: str = "/healthz/"
    readiness_path: str = "/readyz/"
    #: Built-ins "database"/"cache" (every alias), "database:ALIAS", "cache:ALIAS", or the
    #: dotted path of a callable that raises (or returns False) when the process is not ready.
    ready_checks: tuple[str, ...] = ("database", "cache")
    #: Seconds a readiness verdict is reused by every probe to this process: a probe flood
    #: then opens at most one connection per database per interval. 0: every probe checks.
    ready_cache: float = 1.0
    #: Seconds each readiness check may take before it counts as failed (a black-holed
    #: database must not pin a worker).
    ready_timeout: float = 2.0
    #: Seconds between two heartbeats of a worker process (Celery, Django Tasks, Django-Q2).
    heartbeat_interval: float = 5.0
    #: A heartbeat older than this many seconds means the worker is dead (``--healthcheck``).
    heartbeat_max_age: float = 30.0
    #: Where heartbeat files live; None: a directory under the system's temporary directory,
    #: which stays writable with a read-only root file system and an ``emptyDir`` on /tmp.
    heartbeat_dir: str | None = None


HEALTH_KEYS = setting_keys(HealthConfig)

#: The upper bound of each number of seconds in PRODSERVER_HEALTH (READY_CACHE may be 0).
SECONDS_LIMITS = {
    "READY_CACHE": 300.0,
    "READY_TIMEOUT": 60.0,
    "HEARTBEAT_INTERVAL": 3600.0,
    "HEARTBEAT_MAX_AGE": 86400.0,
}


def _seconds(key: str, item: Any, limit: float) -> None:
    if item is None:
        return
    low = 0.0 if key == "READY_CACHE" else 0.05
    if isinstance(item, bool) or not isinstance(item, (int, float)) or not low <= item <= limit:
        raise HealthSettingError(
            f"{HEALTH_SETTING}[{key!r}] = {item!r} is not a number of seconds; "
            f"use a number from {low:g} to {limit:g}, e.g. {getattr(HealthConfig, key.lower()):g}."
        )


def _probe_path(path: Any) -> bool:
    """A path of its own: "/" or "//" would answer the site's root past host validation."""
    return isinstance(path, str) and path.startswith("/") and bool(path.strip("/")) and "//" not in path


def health() -> HealthConfig:
    parsed = dict_setting(HEALTH_SETTING, HEALTH_KEYS, "{'READY_CHECKS': ['database']}", HealthSettingError)
    if parsed is None:
        return HealthConfig()
    value, found = parsed
    for key in ("LIVENESS_PATH", "READINESS_PATH"):
        path = value.get(key)
        if path is not None and not _probe_path(path):
            raise HealthSettingError(
                f"{HEALTH_SETTING}[{key!r}] = {path!r} is not a URL path; use e.g. '/healthz/'."
            )
    checks = value.get("READY_CHECKS")
    if checks is not None:
        if not isinstance(checks, (list, tuple)) or not all(isinstance(c, str) and c for c in checks):
            raise HealthSettingError(
                f"{HEALTH_SETTING}['READY_CHECKS'] must be a list of check names, "
                "e.g. ['database', 'cache', 'myproject.health.check_queue']."
            )
        found["ready_checks"] = tuple(checks)
    for key, limit in SECONDS_LIMITS.items():
        _seconds(key, value.get(key), limit)
    directory = value.get("HEARTBEAT_DIR")
    if directory is not None and (not isinstance(directory, str) or not directory.startswith("/")):
        raise HealthSettingError(
            f"{HEALTH_SETTING}['HEARTBEAT_DIR'] = {directory!r} is not an absolute directory path; "
            "use e.g. '/tmp/prodserver'."
        )
    config = HealthConfig(**found)
    if config.heartbeat_max_age <= config.heartbeat_interval:
        raise HealthSettingError(
            f"{HEALTH_SETTING}: HEARTBEAT_MAX_AGE ({config.heartbeat_max_age:g} s) must be longer than "
            f"HEARTBEAT_INTERVAL ({config.heartbeat_interval:g} s), e.g. six times as long."
        )
    if config.liveness_path.rstrip("/") == config.readiness_path.rstrip("/"):
        raise HealthSettingError(
            f"{HEALTH_SETTING}: LIVENESS_PATH and READINESS_PATH are both {config.liveness_path!r}; "
            "give them different paths."
        )
    return config

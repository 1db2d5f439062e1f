"""The one place that reads ``settings.PRODUCTION_PROCESSES`` (and ``PRODSERVER_HEALTH``).

Everything else receives :class:`ProcessConfig` objects, so the setting's shape is checked
in exactly one spot and every error about it reads the same.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import re
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from django.conf import settings

from django_prodserver.backends import names
from django_prodserver.errors import ConfigurationError, HealthSettingError, NothingConfigured
from django_prodserver.platform import GRACEFUL_SECONDS

SETTING = "PRODUCTION_PROCESSES"

HEALTH_SETTING = "PRODSERVER_HEALTH"

RestartPolicy = Literal["on-failure", "never"]
RESTART_POLICIES: tuple[RestartPolicy, ...] = ("on-failure", "never")

ArgsValue = Mapping[str, Any] | Sequence[str] | str | None

#: What SIGTERM does to a Celery worker (backends/_celery_shutdown.py); None: the backend's default.
ShutdownMode = Literal["soft", "warm"]
SHUTDOWN_MODES: tuple[ShutdownMode, ...] = ("soft", "warm")

WarmupPolicy = Literal["stop", "warn"]
WARMUP_POLICIES: tuple[WarmupPolicy, ...] = ("stop", "warn")
WARMUP_KEYS = frozenset({"URLS", "ON_ERROR", "HOST"})


@dataclass(frozen=True)
class WarmupConfig:
    """URLs requested in-process before the server accepts traffic (``WARMUP``)."""

    urls: tuple[str, ...]
    #: "stop": a failing URL stops the start; "warn": print a warning and start anyway.
    on_error: WarmupPolicy = "stop"
    #: Host header for the requests; None: the first usable ALLOWED_HOSTS entry.
    host: str | None = None


@dataclass(frozen=True)
class ProcessConfig:
    name: str
    backend: str
    args: ArgsValue = None
    app: str | None = None
    #: Supervisor policy when this process exits on its own (``prodserver web worker``).
    restart: RestartPolicy = "on-failure"
    stop_signal: signal.Signals = signal.SIGTERM
    #: Runs to completion before the long-running processes start (e.g. ``migrate``).
    oneshot: bool = False
    warmup: WarmupConfig | None = None
    shutdown: ShutdownMode | None = None
    #: Seconds a web server keeps serving after SIGTERM with readiness failing (draining.py).
    drain: float = 0.0
    raw: Mapping[str, Any] = field(default_factory=dict)

    def setting_path(self, key: str | None = None) -> str:
        """How the user finds this value in settings.py, for error messages."""
        path = f"{SETTING}[{self.name!r}]"
        return f"{path}[{key!r}]" if key else path


def _setting_keys(config: type) -> dict[str, str]:
    """A settings dict's keys are its config dataclass's fields, upper-cased."""
    return {f.name.upper(): f.name for f in fields(config)}


#: The keys of a process entry prodserver reads: ProcessConfig's fields but the name (the
#: entry's own key in the setting) and the entry itself.
PROCESS_KEYS = frozenset(
    key for key, attr in _setting_keys(ProcessConfig).items() if attr not in {"name", "raw"}
)


def _known_keys_hint(key: Any, known: Sequence[str]) -> str:
    """``did you mean 'DRAIN'?`` for a misspelt key (in any case), or else every key there is."""
    close = difflib.get_close_matches(str(key).upper(), known, n=1)
    return f"did you mean {close[0]!r}?" if close else f"use {', '.join(map(repr, known))}."


def _raw_setting() -> Mapping[str, Any]:
    processes = getattr(settings, SETTING, None)
    if processes is None:
        raise NothingConfigured(
            f"The {SETTING} setting is missing: define it in your settings, e.g. "
            f"{SETTING} = {{'web': {{'BACKEND': 'django_prodserver.backends.gunicorn.GunicornServer'}}}}."
        )
    if not isinstance(processes, Mapping):
        raise ConfigurationError(
            f"The {SETTING} setting must be a dict of process name -> config, not {type(processes).__name__}."
        )
    if not processes:
        raise NothingConfigured(f"The {SETTING} setting is empty: add at least one process, e.g. 'web'.")
    return processes


#: Process names end up in argv (``prodserver NAME``), unit and container names, log prefixes.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

#: Signals whose default action is to ignore the process or pause it: as a stop signal they
#: stop nothing, and as the die-with-parent signal they leave the child running orphaned.
_NOT_STOPPING = frozenset(
    getattr(signal, name)
    for name in ("SIGCHLD", "SIGCONT", "SIGURG", "SIGWINCH", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU")
    if hasattr(signal, name)
)


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"{SETTING} key {name!r} is not a process name; use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit, e.g. 'web' or 'celery-beat'."
        )
    return name


def _parse_signal(name: str, value: Any) -> signal.Signals:
    where = f"{SETTING}[{name!r}]['STOP_SIGNAL'] = {value!r}"
    found: signal.Signals | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        with contextlib.suppress(ValueError):
            found = signal.Signals(value)
    elif isinstance(value, str):
        text = value.upper()
        text = text if text.startswith("SIG") else f"SIG{text}"
        found = signal.Signals.__members__.get(text)
    if found is None:
        raise ConfigurationError(f"{where} is not a signal; use e.g. 'SIGTERM' or 'SIGINT'.")
    if found in _NOT_STOPPING:
        raise ConfigurationError(
            f"{where} does not stop a process (by default it is ignored or pauses it), and it is "
            "also what a child gets when the supervisor dies; use e.g. 'SIGTERM', 'SIGINT' or 'SIGQUIT'."
        )
    return found


def _parse_oneshot(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(
            f"{SETTING}[{name!r}]['ONESHOT'] = {value!r} is not True or False; "
            "write the boolean itself, e.g. True (or leave the key out)."
        )
    return value


def _parse_warmup(name: str, value: Any) -> WarmupConfig | None:
    where = f"{SETTING}[{name!r}]['WARMUP']"
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = {"URLS": value}
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{where} must be a list of URL paths such as ['/'] (or a dict with 'URLS'), "
            f"not {type(value).__name__}."
        )
    unknown = sorted(set(value) - WARMUP_KEYS)
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown key {unknown[0]!r}; use {', '.join(map(repr, sorted(WARMUP_KEYS)))}."
        )
    urls = value.get("URLS")
    if not isinstance(urls, (list, tuple)) or not urls:
        raise ConfigurationError(f"{where}['URLS'] must be a non-empty list of URL paths such as ['/'].")
    for url in urls:
        if not isinstance(url, str) or not url.startswith("/"):
            raise ConfigurationError(
                f"{where}: {url!r} is not a URL path; write it as the path the server answers, e.g. '/'."
            )
    on_error = value.get("ON_ERROR", "stop")
    if on_error not in WARMUP_POLICIES:
        raise ConfigurationError(f"{where}['ON_ERROR'] = {on_error!r} is not a policy; use 'stop' or 'warn'.")
    host = value.get("HOST")
    if host is not None and (not isinstance(host, str) or not host):
        raise ConfigurationError(f"{where}['HOST'] must be a host name such as 'example.com'.")
    return WarmupConfig(urls=tuple(urls), on_error=on_error, host=host)


#: Longest DRAIN: load balancers notice a failing probe within seconds, not minutes.
DRAIN_MAX_SECONDS = 300


def _parse_drain(name: str, value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= DRAIN_MAX_SECONDS:
        raise ConfigurationError(
            f"{SETTING}[{name!r}]['DRAIN'] = {value!r} is not a number of seconds; use a number from "
            f"0 (off) to {DRAIN_MAX_SECONDS}, e.g. 10 (a little more than your load balancer's probe "
            "period times its failure threshold)."
        )
    return float(value)


def parse_process(name: str, entry: Any) -> ProcessConfig:
    check_name(name)
    if not isinstance(entry, Mapping):
        raise ConfigurationError(
            f"{SETTING}[{name!r}] must be a dict with at least 'BACKEND', not {type(entry).__name__}."
        )
    backend = entry.get("BACKEND")
    if not backend or not isinstance(backend, str):
        raise ConfigurationError(
            f"{SETTING}[{name!r}] has no 'BACKEND': set it to a dotted path such as "
            "'django_prodserver.backends.gunicorn.GunicornServer'."
        )
    args = entry.get("ARGS")
    if args is not None and not isinstance(args, (Mapping, str, list, tuple)):
        raise ConfigurationError(
            f"{SETTING}[{name!r}]['ARGS'] must be a dict (or a list/string of raw arguments), "
            f"not {type(args).__name__}."
        )
    restart = entry.get("RESTART", "on-failure")
    if restart not in RESTART_POLICIES:
        raise ConfigurationError(
            f"{SETTING}[{name!r}]['RESTART'] = {restart!r} is not a restart policy; "
            f"use one of {', '.join(map(repr, RESTART_POLICIES))}."
        )
    shutdown = entry.get("SHUTDOWN")
    if shutdown is not None and shutdown not in SHUTDOWN_MODES:
        raise ConfigurationError(
            f"Process {name!r}: SHUTDOWN = {shutdown!r} is not a Celery shutdown mode; use "
            "'soft' (the default: SIGTERM gives running tasks a bounded time) or 'warm' "
            "(SIGTERM waits for them however long)."
        )
    return ProcessConfig(
        name=name,
        backend=backend,
        args=args,
        app=entry.get("APP"),
        restart=restart,
        stop_signal=_parse_signal(name, entry.get("STOP_SIGNAL", "SIGTERM")),
        oneshot=_parse_oneshot(name, entry.get("ONESHOT", False)),
        warmup=_parse_warmup(name, entry.get("WARMUP")),
        shutdown=shutdown,
        drain=_parse_drain(name, entry.get("DRAIN")),
        raw=dict(entry),
    )


def key_warnings(process: ProcessConfig) -> list[str]:
    """One sentence per key of the entry that nothing reads, e.g. ``DRIAN`` for ``DRAIN``.

    Only for prodserver's own backends, whose keys are exactly :data:`PROCESS_KEYS`. Any
    other backend is constructed with the whole entry as keyword arguments (the 2.x and 3.x
    contract), and custom backends written for them read keys of their own that we cannot
    know; a backend declaring its keys would need every such backend to change, and a
    project's subclass of one of ours may read keys too. So those are not checked, and this
    is a warning: a typo silently did nothing before, and ``migrate`` must keep running.
    """
    if not names.is_ours(process.backend):
        return []
    return [
        f"Process {process.name!r}: {process.setting_path()} has an unknown key {key!r}; "
        f"{_known_keys_hint(key, sorted(PROCESS_KEYS))}"
        for key in process.raw
        if key not in PROCESS_KEYS
    ]


def process_names() -> list[str]:
    return [check_name(name) for name in _raw_setting()]


def get_process(name: str) -> ProcessConfig:
    processes = _raw_setting()
    if name not in processes:
        names = ", ".join(map(repr, processes))
        raise ConfigurationError(f"No process named {name!r} in {SETTING}; configured: {names}.")
    return parse_process(name, processes[name])


def all_processes() -> list[ProcessConfig]:
    return [parse_process(name, entry) for name, entry in _raw_setting().items()]


@dataclass(frozen=True)
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


HEALTH_KEYS = _setting_keys(HealthConfig)


def _dict_setting(
    setting: str, keys: Mapping[str, str], example: str, error: type[ConfigurationError]
) -> tuple[Mapping[Any, Any], dict[str, Any]] | None:
    """Read an optional dict setting whose keys map onto a config dataclass's fields.

    Shared by ``PRODSERVER_HEALTH`` and ``PRODSERVER_SUPERVISOR`` so both reject a non-dict
    and a misspelt key with the same wording. Returns None when the setting is unset, else
    the raw dict (for per-key value checks) and its items renamed to field names. A key set
    to None means its default, as an unset key does.
    """
    value = getattr(settings, setting, None)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise error(f"The {setting} setting must be a dict, e.g. {example}, not {type(value).__name__}.")
    value = {key: item for key, item in value.items() if item is not None}
    found: dict[str, Any] = {}
    for key, item in value.items():
        if key not in keys:
            raise error(f"{setting} has unknown key {key!r}; {_known_keys_hint(key, list(keys))}")
        found[keys[key]] = item
    return value, found


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
    parsed = _dict_setting(HEALTH_SETTING, HEALTH_KEYS, "{'READY_CHECKS': ['database']}", HealthSettingError)
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


SUPERVISOR_SETTING = "PRODSERVER_SUPERVISOR"


@dataclass(frozen=True)
class SupervisorConfig:
    """``PRODSERVER_SUPERVISOR``: timings of ``prodserver web worker`` / ``prodserver --all``."""

    #: One deadline for the whole group after SIGINT/SIGTERM, then SIGKILL. Below the 30 s
    #: grace period of Heroku and Kubernetes, so we kill stragglers before the platform does.
    shutdown_timeout: float = GRACEFUL_SECONDS
    #: A child that exits sooner than this after starting "died while starting".
    start_seconds: float = 10.0
    #: Restarts allowed for a child that keeps dying while starting; one more and we stop.
    start_retries: int = 3
    #: First restart delay, doubled for each consecutive failure, capped at the maximum.
    restart_delay: float = 1.0
    restart_delay_max: float = 30.0


SUPERVISOR_KEYS = _setting_keys(SupervisorConfig)
#: Upper bounds: an hour is beyond any platform's grace period, and keeps every timer within
#: what ``select()`` accepts; a thousand retries of a child that cannot start is plenty.
MAX_SECONDS = 3600
MAX_RETRIES = 1000


def _check_timing(key: Any, item: Any) -> None:
    if key == "START_RETRIES":
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= MAX_RETRIES:
            raise ConfigurationError(
                f"{SUPERVISOR_SETTING}['START_RETRIES'] = {item!r} is not a count; "
                f"use an integer from 0 to {MAX_RETRIES}, e.g. 3."
            )
    elif (
        isinstance(item, bool)
        or not isinstance(item, (int, float))
        or not math.isfinite(item)
        or not 0 <= item <= MAX_SECONDS
    ):
        raise ConfigurationError(
            f"{SUPERVISOR_SETTING}[{key!r}] = {item!r} is not a number of seconds; "
            f"use a number from 0 to {MAX_SECONDS}, e.g. 5."
        )


def supervisor() -> SupervisorConfig:
    parsed = _dict_setting(
        SUPERVISOR_SETTING, SUPERVISOR_KEYS, "{'SHUTDOWN_TIMEOUT': 25}", ConfigurationError
    )
    if parsed is None:
        return SupervisorConfig()
    value, found = parsed
    for key, item in value.items():
        _check_timing(key, item)
    return SupervisorConfig(**found)

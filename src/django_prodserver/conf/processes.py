"""The one place that reads ``settings.PRODUCTION_PROCESSES``.

Everything else receives :class:`ProcessConfig` objects, so the setting's shape is checked
in exactly one spot and every error about it reads the same.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import signal
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from django.conf import settings

from django_prodserver.backends import names
from django_prodserver.conf.keys import known_keys_hint, meant_key, setting_keys
from django_prodserver.errors import ConfigurationError, NothingConfigured
from django_prodserver.records import field, record

SETTING = "PRODUCTION_PROCESSES"

RestartPolicy = Literal["on-failure", "never"]
RESTART_POLICIES: tuple[RestartPolicy, ...] = ("on-failure", "never")

ArgsValue = Mapping[str, Any] | Sequence[str] | str | None

#: What SIGTERM does to a Celery worker (backends/_celery_shutdown.py); None: the backend's default.
ShutdownMode = Literal["soft", "warm"]
SHUTDOWN_MODES: tuple[ShutdownMode, ...] = ("soft", "warm")

WarmupPolicy = Literal["stop", "warn"]
WARMUP_POLICIES: tuple[WarmupPolicy, ...] = ("stop", "warn")
WARMUP_KEYS = frozenset({"URLS", "ON_ERROR", "HOST"})


@record
class WarmupConfig:
    """URLs requested in-process before the server accepts traffic (``WARMUP``)."""

    urls: tuple[str, ...]
    #: "stop": a failing URL stops the start; "warn": print a warning and start anyway.
    on_error: WarmupPolicy = "stop"
    #: Host header for the requests; None: the first usable ALLOWED_HOSTS entry.
    host: str | None = None


@record
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


#: The keys of a process entry prodserver reads: ProcessConfig's fields but the name (the
#: entry's own key in the setting) and the entry itself.
PROCESS_KEYS = frozenset(
    key for key, attr in setting_keys(ProcessConfig).items() if attr not in {"name", "raw"}
)


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
        raise ConfigurationError(_backend_problem(name, entry))
    args = entry.get("ARGS")
    if args is not None and not isinstance(args, (Mapping, str, list, tuple)):
        raise ConfigurationError(
            f"{SETTING}[{name!r}]['ARGS'] must be a dict (or a list/string of raw arguments), "
            f"not {type(args).__name__}."
        )
    if isinstance(args, str):
        try:
            shlex.split(args)
        except ValueError as exc:  # the backend would split it the same way, later
            raise ConfigurationError(
                f"{SETTING}[{name!r}]['ARGS'] = {args!r} is not a command line: {str(exc).lower()}; "
                "close the quote, or give ARGS as a dict."
            ) from None
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


def _backend_problem(name: str, entry: Mapping[Any, Any]) -> str:
    """What is wrong with an entry's BACKEND: missing (perhaps misspelt), or not a dotted path."""
    example = "'django_prodserver.backends.gunicorn.GunicornServer'"
    if "BACKEND" not in entry:
        misspelt = next((key for key in entry if meant_key(key, ["BACKEND"])), None)
        if misspelt is not None:
            hint = known_keys_hint(misspelt, ["BACKEND"])
            return f"{SETTING}[{name!r}] has no 'BACKEND' but has {misspelt!r}; {hint}"
        return f"{SETTING}[{name!r}] has no 'BACKEND': set it to a dotted path such as {example}."
    value = entry["BACKEND"]
    return (
        f"{SETTING}[{name!r}]['BACKEND'] = {value!r} is not a dotted path; write one as a string, "
        f"such as {example}, or a short name such as 'gunicorn'."
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
        f"{known_keys_hint(key, sorted(PROCESS_KEYS))}"
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

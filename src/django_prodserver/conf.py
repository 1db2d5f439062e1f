"""The one place that reads ``settings.PRODUCTION_PROCESSES``.

Everything else receives :class:`ProcessConfig` objects, so the setting's shape is checked
in exactly one spot and every error about it reads the same.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings

from django_prodserver.errors import ConfigurationError

SETTING = "PRODUCTION_PROCESSES"

RestartPolicy = Literal["on-failure", "never"]
RESTART_POLICIES: tuple[RestartPolicy, ...] = ("on-failure", "never")

#: Keys of a process entry that this package reads. Anything else is kept in ``raw`` for
#: custom backends, which receive the whole entry as keyword arguments.
KNOWN_KEYS = frozenset(
    {"BACKEND", "ARGS", "APP", "RESTART", "STOP_SIGNAL", "ONESHOT", "WARMUP", "SHUTDOWN"}
)

ArgsValue = Mapping[str, Any] | Sequence[str] | str | None


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
    raw: Mapping[str, Any] = field(default_factory=dict)

    def setting_path(self, key: str | None = None) -> str:
        """How the user finds this value in settings.py, for error messages."""
        path = f"{SETTING}[{self.name!r}]"
        return f"{path}[{key!r}]" if key else path


def _raw_setting() -> Mapping[str, Any]:
    processes = getattr(settings, SETTING, None)
    if processes is None:
        raise ConfigurationError(
            f"The {SETTING} setting is missing: define it in your settings, e.g. "
            f"{SETTING} = {{'web': {{'BACKEND': 'django_prodserver.backends.gunicorn.GunicornServer'}}}}."
        )
    if not isinstance(processes, Mapping):
        raise ConfigurationError(
            f"The {SETTING} setting must be a dict of process name -> config, "
            f"not {type(processes).__name__}."
        )
    if not processes:
        raise ConfigurationError(
            f"The {SETTING} setting is empty: add at least one process, e.g. 'web'."
        )
    return processes


def _parse_signal(name: str, value: Any) -> signal.Signals:
    if isinstance(value, int):
        try:
            return signal.Signals(value)
        except ValueError:
            pass
    elif isinstance(value, str):
        text = value.upper()
        text = text if text.startswith("SIG") else f"SIG{text}"
        if text in signal.Signals.__members__:
            return signal.Signals[text]
    raise ConfigurationError(
        f"{SETTING}[{name!r}]['STOP_SIGNAL'] = {value!r} is not a signal; use e.g. 'SIGTERM' or 'SIGINT'."
    )


def parse_process(name: str, entry: Any) -> ProcessConfig:
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
    return ProcessConfig(
        name=name,
        backend=backend,
        args=args,
        app=entry.get("APP"),
        restart=restart,
        stop_signal=_parse_signal(name, entry.get("STOP_SIGNAL", "SIGTERM")),
        oneshot=bool(entry.get("ONESHOT", False)),
        raw=dict(entry),
    )


def process_names() -> list[str]:
    return [str(name) for name in _raw_setting()]


def get_process(name: str) -> ProcessConfig:
    processes = _raw_setting()
    if name not in processes:
        names = ", ".join(map(repr, processes))
        raise ConfigurationError(
            f"No process named {name!r} in {SETTING}; configured: {names}."
        )
    return parse_process(name, processes[name])


def all_processes() -> list[ProcessConfig]:
    return [parse_process(str(name), entry) for name, entry in _raw_setting().items()]

"""``PRODSERVER_SUPERVISOR``: the timings of ``prodserver web worker`` / ``prodserver --all``.

Only the supervisor, the exporters and the checks read it, so a single process' start
(``prodserver web``) does not import this module.
"""

from __future__ import annotations

import math
from typing import Any

from django_prodserver.conf.keys import dict_setting, setting_keys
from django_prodserver.errors import ConfigurationError
from django_prodserver.platform import GRACEFUL_SECONDS
from django_prodserver.records import record

SUPERVISOR_SETTING = "PRODSERVER_SUPERVISOR"


@record
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


SUPERVISOR_KEYS = setting_keys(SupervisorConfig)
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
    parsed = dict_setting(SUPERVISOR_SETTING, SUPERVISOR_KEYS, "{'SHUTDOWN_TIMEOUT': 25}", ConfigurationError)
    if parsed is None:
        return SupervisorConfig()
    value, found = parsed
    for key, item in value.items():
        _check_timing(key, item)
    return SupervisorConfig(**found)

"""Bad values in a process entry or in PRODSERVER_SUPERVISOR: one line naming the key, as E001.

Each value here used to be accepted and then misbehave: ``"ONESHOT": "False"`` ran the process
as a one-shot, ``STOP_SIGNAL: True`` meant SIGHUP, a signal that stops nothing also became the
die-with-parent signal (so the child outlived a killed supervisor), an infinite timeout crashed
``select()`` and NaN spun the loop.
"""

from __future__ import annotations

from typing import Any

import django
import pytest
from django.core import checks as django_checks
from django.test import override_settings

from django_prodserver import checks, conf
from django_prodserver.errors import ConfigurationError

BACKEND = "testproject.chatty.Chatty"


@pytest.fixture(scope="module", autouse=True)
def _django() -> None:
    django.setup()


def entry_error(name: Any, **entry: Any) -> str:
    with pytest.raises(ConfigurationError) as caught:
        conf.parse_process(name, {"BACKEND": BACKEND, **entry})
    return str(caught.value)


def check_ids(processes: Any) -> list[tuple[str, str]]:
    with override_settings(PRODUCTION_PROCESSES=processes):
        messages = django_checks.run_checks(tags=[checks.TAG])
    return [(m.id or "", m.msg) for m in messages]


@pytest.mark.parametrize("value", ["False", "no", 0, 1, None, "True"])
def test_oneshot_accepts_only_a_real_boolean(value: Any) -> None:
    assert entry_error("release", ONESHOT=value) == (
        f"PRODUCTION_PROCESSES['release']['ONESHOT'] = {value!r} is not True or False; "
        "write the boolean itself, e.g. True (or leave the key out)."
    )


def test_oneshot_booleans_still_work() -> None:
    assert conf.parse_process("release", {"BACKEND": BACKEND, "ONESHOT": True}).oneshot is True
    assert conf.parse_process("release", {"BACKEND": BACKEND, "ONESHOT": False}).oneshot is False


@pytest.mark.parametrize("value", ["onfailure", "always", None, True])
def test_restart_refuses_what_is_not_a_policy(value: Any) -> None:
    assert entry_error("web", RESTART=value) == (
        f"PRODUCTION_PROCESSES['web']['RESTART'] = {value!r} is not a restart policy; "
        "use one of 'on-failure', 'never'."
    )


@pytest.mark.parametrize("value", [True, False, 1.0])
def test_stop_signal_refuses_what_is_not_a_signal(value: Any) -> None:
    assert entry_error("web", STOP_SIGNAL=value) == (
        f"PRODUCTION_PROCESSES['web']['STOP_SIGNAL'] = {value!r} is not a signal; "
        "use e.g. 'SIGTERM' or 'SIGINT'."
    )


@pytest.mark.parametrize("value", ["SIGCHLD", "winch", "SIGCONT", "SIGURG", "SIGSTOP", "SIGTSTP", 17])
def test_stop_signal_refuses_signals_that_do_not_stop_a_process(value: Any) -> None:
    assert entry_error("web", STOP_SIGNAL=value) == (
        f"PRODUCTION_PROCESSES['web']['STOP_SIGNAL'] = {value!r} does not stop a process (by default "
        "it is ignored or pauses it), and it is also what a child gets when the supervisor dies; "
        "use e.g. 'SIGTERM', 'SIGINT' or 'SIGQUIT'."
    )


@pytest.mark.parametrize(("value", "expected"), [("SIGINT", 2), ("quit", 3), (15, 15), ("SIGUSR1", 10)])
def test_stop_signals_that_stop_are_accepted(value: Any, expected: int) -> None:
    assert conf.parse_process("web", {"BACKEND": BACKEND, "STOP_SIGNAL": value}).stop_signal == expected


@pytest.mark.parametrize("name", ["-w", "we\x00b", "web\nworker", "", " web", "web worker", 3, None, ".web"])
def test_odd_process_names_are_refused_in_one_line(name: Any) -> None:
    message = (
        f"PRODUCTION_PROCESSES key {name!r} is not a process name; use letters, digits, '-', '_' "
        "and '.', starting with a letter or digit, e.g. 'web' or 'celery-beat'."
    )
    assert entry_error(name) == message
    assert check_ids({name: {"BACKEND": BACKEND}, "web": {"BACKEND": BACKEND}}) == [
        ("prodserver.E001", message)
    ]


@pytest.mark.parametrize("name", ["web", "celery-beat", "worker_2", "v1.web", "2nd"])
def test_usual_process_names_are_accepted(name: str) -> None:
    assert conf.parse_process(name, {"BACKEND": BACKEND}).name == name


def supervisor_error(value: Any) -> str:
    with override_settings(PRODSERVER_SUPERVISOR=value), pytest.raises(ConfigurationError) as caught:
        conf.supervisor()
    return str(caught.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("SHUTDOWN_TIMEOUT", float("inf")),
        ("SHUTDOWN_TIMEOUT", float("nan")),
        ("SHUTDOWN_TIMEOUT", 1e7),
        ("START_SECONDS", -1),
        ("RESTART_DELAY", float("nan")),
        ("RESTART_DELAY_MAX", 3601),
        ("SHUTDOWN_TIMEOUT", "soon"),
        ("SHUTDOWN_TIMEOUT", True),
    ],
)
def test_supervisor_timings_must_be_finite_and_bounded(key: str, value: Any) -> None:
    assert supervisor_error({key: value}) == (
        f"PRODSERVER_SUPERVISOR[{key!r}] = {value!r} is not a number of seconds; "
        "use a number from 0 to 3600, e.g. 5."
    )


@pytest.mark.parametrize("value", [1025, 10**6, -1, 1.5, True])
def test_start_retries_is_a_bounded_count(value: Any) -> None:
    assert supervisor_error({"START_RETRIES": value}) == (
        f"PRODSERVER_SUPERVISOR['START_RETRIES'] = {value!r} is not a count; "
        "use an integer from 0 to 1000, e.g. 3."
    )


def test_bounded_supervisor_values_are_accepted() -> None:
    value = {"SHUTDOWN_TIMEOUT": 3600, "START_RETRIES": 1000, "RESTART_DELAY": 0, "START_SECONDS": 0.5}
    with override_settings(PRODSERVER_SUPERVISOR=value):
        timing = conf.supervisor()
    assert (timing.shutdown_timeout, timing.start_retries, timing.restart_delay) == (3600, 1000, 0)


class ReadKeys(dict[str, Any]):
    """An entry that remembers which keys were asked for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


def test_the_known_keys_are_exactly_those_parse_process_reads() -> None:
    # prodserver.W007 warns about every other key, so the two must never drift apart.
    entry = ReadKeys(BACKEND=BACKEND)
    conf.parse_process("web", entry)
    assert entry.read == conf.PROCESS_KEYS


#: Every public name of ``django_prodserver.conf`` when it was one module: projects and custom
#: backends written for 2.x/3.x import them from there.
CONF_NAMES = [
    "SETTING",
    "RestartPolicy",
    "RESTART_POLICIES",
    "ArgsValue",
    "ShutdownMode",
    "SHUTDOWN_MODES",
    "WarmupPolicy",
    "WARMUP_POLICIES",
    "WARMUP_KEYS",
    "WarmupConfig",
    "ProcessConfig",
    "PROCESS_KEYS",
    "check_name",
    "DRAIN_MAX_SECONDS",
    "parse_process",
    "key_warnings",
    "process_names",
    "get_process",
    "all_processes",
    "HEALTH_SETTING",
    "HealthConfig",
    "HEALTH_KEYS",
    "SECONDS_LIMITS",
    "health",
    "SUPERVISOR_SETTING",
    "SupervisorConfig",
    "SUPERVISOR_KEYS",
    "MAX_SECONDS",
    "MAX_RETRIES",
    "supervisor",
]


def test_conf_still_offers_every_name_it_had() -> None:
    from django_prodserver.conf import health_settings, processes, supervisor_settings

    homes = (processes, health_settings, supervisor_settings)
    assert sorted(conf.__all__) == sorted(CONF_NAMES)
    for name in CONF_NAMES:
        (home,) = [module for module in homes if hasattr(module, name)]
        # The same object, and the function, not the submodule that shares its package.
        assert getattr(conf, name) is getattr(home, name), name
    with pytest.raises(AttributeError, match="has no attribute 'get_proces'"):
        conf.get_proces  # noqa: B018

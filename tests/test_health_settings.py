"""PRODSERVER_HEALTH and the middleware's place, as ``manage.py check`` reports them (whole messages)."""

from __future__ import annotations

from typing import Any

import pytest

from harness import run_manage
from test_health import MIDDLEWARE

E009_HINT = (
    "\tHINT: READY_CHECKS takes 'database', 'cache', 'database:ALIAS', 'cache:ALIAS' or the dotted path "
    "of a callable that raises (or returns False) when the process is not ready; see docs/health.md."
)
WHERE = "PRODSERVER_HEALTH['READY_CHECKS']"
EXAMPLE = "['database', 'cache', 'myproject.health.check_queue']"
BOTH = "LIVENESS_PATH and READINESS_PATH"


@pytest.mark.parametrize(
    ("health", "message"),
    [
        (
            {"READY_CHECKS": ["database:replica"]},
            f"{WHERE}: 'database:replica' names no alias in DATABASES; configured: 'default'.",
        ),
        (
            {"READY_CHECKS": ["cache:sessions"]},
            f"{WHERE}: 'cache:sessions' names no alias in CACHES; configured: 'default'.",
        ),
        (
            {"READY_CHECKS": ["databases"]},
            f"{WHERE}: 'databases' is not a check; use 'database', 'cache', 'database:ALIAS', "
            "'cache:ALIAS' or the dotted path of a callable.",
        ),
        (
            {"READY_CHECKS": ["testproject.probes.no_such_check"]},
            f"{WHERE}: 'testproject.probes.no_such_check' cannot be imported "
            "(module 'testproject.probes' has no attribute 'no_such_check').",
        ),
        (
            {"READY_CHECKS": ["testproject.probes.HITS"]},
            f"{WHERE}: 'testproject.probes.HITS' is not callable.",
        ),
        (
            {"READY_CHECKS": "database"},
            f"{WHERE} must be a list of check names, e.g. {EXAMPLE}.",
        ),
        (
            {"READY_CHECK": []},
            "PRODSERVER_HEALTH has unknown key 'READY_CHECK'; did you mean 'READY_CHECKS'?",
        ),
        (
            {"LIVENESS_PATH": "healthz/"},
            "PRODSERVER_HEALTH['LIVENESS_PATH'] = 'healthz/' is not a URL path; use e.g. '/healthz/'.",
        ),
        (
            {"LIVENESS_PATH": "//"},
            "PRODSERVER_HEALTH['LIVENESS_PATH'] = '//' is not a URL path; use e.g. '/healthz/'.",
        ),
        (
            {"READINESS_PATH": "/ready//now/"},
            "PRODSERVER_HEALTH['READINESS_PATH'] = '/ready//now/' is not a URL path; use e.g. '/healthz/'.",
        ),
        (
            {"LIVENESS_PATH": "/probe/", "READINESS_PATH": "/probe"},
            f"PRODSERVER_HEALTH: {BOTH} are both '/probe/'; give them different paths.",
        ),
        (
            {"READY_TIMEOUT": float("inf")},
            "PRODSERVER_HEALTH['READY_TIMEOUT'] = inf is not a number of seconds; "
            "use a number from 0.05 to 60, e.g. 2.",
        ),
        (
            {"READY_CACHE": -1},
            "PRODSERVER_HEALTH['READY_CACHE'] = -1 is not a number of seconds; "
            "use a number from 0 to 300, e.g. 1.",
        ),
        (
            {"HEARTBEAT_INTERVAL": "5"},
            "PRODSERVER_HEALTH['HEARTBEAT_INTERVAL'] = '5' is not a number of seconds; "
            "use a number from 0.05 to 3600, e.g. 5.",
        ),
        (
            {"HEARTBEAT_INTERVAL": 10, "HEARTBEAT_MAX_AGE": 10},
            "PRODSERVER_HEALTH: HEARTBEAT_MAX_AGE (10 s) must be longer than HEARTBEAT_INTERVAL (10 s), "
            "e.g. six times as long.",
        ),
        (
            {"HEARTBEAT_DIR": "run/heartbeats"},
            "PRODSERVER_HEALTH['HEARTBEAT_DIR'] = 'run/heartbeats' is not an absolute directory path; "
            "use e.g. '/tmp/prodserver'.",
        ),
        (
            ["database"],
            "The PRODSERVER_HEALTH setting must be a dict, e.g. {'READY_CHECKS': ['database']}, not list.",
        ),
    ],
)
def test_bad_setting_is_an_error_naming_it(health: Any, message: str) -> None:
    result = run_manage("check", settings={"PRODSERVER_HEALTH": health})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert f"?: (prodserver.E009) {message}" in lines, result.stderr
    assert E009_HINT in lines


def test_prodserver_refuses_to_start_with_a_bad_ready_check_in_one_line() -> None:
    """Before Django's checks, which would wrap it in a SystemCheckError block (as PRODSERVER_SUPERVISOR)."""
    result = run_manage("prodserver", "web", settings={"PRODSERVER_HEALTH": {"READY_CHECKS": ["databse"]}})
    assert result.returncode == 1
    assert result.stderr == (
        f"CommandError: {WHERE}: 'databse' is not a check; use 'database', 'cache', 'database:ALIAS', "
        "'cache:ALIAS' or the dotted path of a callable.\n"
    )


def test_middleware_after_security_middleware_is_a_warning() -> None:
    late = [MIDDLEWARE[1], MIDDLEWARE[0], *MIDDLEWARE[2:]]
    result = run_manage("check", settings={"MIDDLEWARE": late})
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert (
        "?: (prodserver.W004) django_prodserver.middleware.HealthCheckMiddleware comes after "
        "'django.middleware.security.SecurityMiddleware' in MIDDLEWARE, so probes whose Host header is "
        "not in ALLOWED_HOSTS are rejected, and SECURE_SSL_REDIRECT redirects them."
    ) in lines, result.stderr
    assert (
        "\tHINT: Move 'django_prodserver.middleware.HealthCheckMiddleware' to the top of MIDDLEWARE, so "
        "probes that send an IP address as Host are answered instead of rejected or redirected."
    ) in lines


def test_middleware_first_passes() -> None:
    result = run_manage("check", settings={"MIDDLEWARE": MIDDLEWARE})
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "System check identified no issues (0 silenced).\n",
        "",
    )


@pytest.mark.usefixtures("django_project")
def test_a_key_set_to_none_means_its_default() -> None:
    from django.test.utils import override_settings

    from django_prodserver import conf

    keys = ["LIVENESS_PATH", "READY_CHECKS", "READY_CACHE", "HEARTBEAT_INTERVAL", "HEARTBEAT_DIR"]
    with override_settings(PRODSERVER_HEALTH=dict.fromkeys(keys)):
        assert conf.health() == conf.HealthConfig()

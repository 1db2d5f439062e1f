"""Adding the app never breaks the project's other commands.

Django runs the default system checks before ``migrate``, ``runserver``, ``test`` …, so what
depends on this machine (nothing configured yet, a program not installed here) must wait
for ``check --deploy``, ``prodserver --check`` and the start. Each case runs the real
``manage.py`` of the test project.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from harness import TESTS_DIR, run_manage

GUNICORN = {"web": {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"}}
MISSING = "The PRODUCTION_PROCESSES setting is missing: define it in your settings, e.g. "
EMPTY = "The PRODUCTION_PROCESSES setting is empty: add at least one process, e.g. 'web'."
NO_GUNICORN = (
    "Process 'web' uses GunicornServer, but gunicorn is not installed: "
    "pip install 'django-prodserver[gunicorn]'"
)


def without_gunicorn() -> dict[str, str]:
    """tests/shims/without_gunicorn/ first on the path: ``import gunicorn`` fails as when absent."""
    paths = [str(TESTS_DIR / "shims" / "without_gunicorn"), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(filter(None, paths))}


#: (PRODUCTION_PROCESSES as the test project reads it, extra environment, the one problem).
CASES: dict[str, tuple[Any, dict[str, str], str]] = {
    "empty": ({}, {}, EMPTY),
    # The test project deletes the setting when it reads JSON null.
    "missing": ({}, {"PRODSERVER_TEST_PROCESSES": "null"}, MISSING),
    "gunicorn-hidden": (GUNICORN, without_gunicorn(), NO_GUNICORN),
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[dict[str, Any], str]:
    processes, env, problem = CASES[request.param]
    return {"processes": processes, "env": env, "db": str(tmp_path / "db.sqlite3")}, problem


def test_migrate_and_check_succeed(case: tuple[dict[str, Any], str]) -> None:
    kw, _ = case
    migrate = run_manage("migrate", "--noinput", **kw)
    assert migrate.returncode == 0, migrate.stderr
    assert "Applying auth.0001_initial... OK" in migrate.stdout
    check = run_manage("check", **kw)
    assert (check.returncode, check.stdout, check.stderr) == (
        0,
        "System check identified no issues (0 silenced).\n",
        "",
    )


def test_check_deploy_reports_it(case: tuple[dict[str, Any], str]) -> None:
    kw, problem = case
    result = run_manage("check", "--deploy", **kw)
    assert result.returncode == 1
    assert f": (prodserver.E0{'03' if 'gunicorn' in problem else '11'}) {problem}" in result.stderr
    assert "Traceback" not in result.stderr


def test_prodserver_check_reports_it(case: tuple[dict[str, Any], str]) -> None:
    kw, problem = case
    result = run_manage("prodserver", "--check", **kw)
    assert result.returncode == 1
    assert problem in result.stderr
    assert "Traceback" not in result.stderr


def test_prodserver_web_stops_with_one_line(case: tuple[dict[str, Any], str]) -> None:
    kw, problem = case
    result = run_manage("prodserver", "web", **kw)
    assert (result.returncode, result.stdout) == (1, "")
    if problem == MISSING:
        assert result.stderr.startswith(f"CommandError: {MISSING}"), result.stderr
        assert len(result.stderr.splitlines()) == 1
    else:
        assert result.stderr == f"CommandError: {problem}\n"


def test_a_backend_whose_module_needs_a_missing_package_waits_for_the_deploy_checks() -> None:
    processes = {"jobs": {"BACKEND": "testproject.broken_backend.Server"}}
    plain = run_manage("check", processes=processes)
    assert plain.returncode == 0, plain.stderr
    deploy = run_manage("check", "--deploy", processes=processes)
    assert deploy.returncode == 1
    assert (
        "?: (prodserver.E003) Process 'jobs': BACKEND 'testproject.broken_backend.Server' needs "
        "the module 'prodserver_test_missing_dependency', which is not installed here; install it "
        "(--traceback shows what imports it)."
    ) in deploy.stderr.splitlines(), deploy.stderr

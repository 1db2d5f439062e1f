from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")


@pytest.fixture
def no_platform_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the platform contract and the programs' own variables (``GRANIAN_*``, ``UVICORN_*``).

    A test that asserts the options a backend derives would otherwise see options that
    the environment of whoever runs the suite adds. Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("no_platform_variables")``.
    """
    for name in list(os.environ):
        if name in ("PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "GUNICORN_CMD_ARGS") or name.startswith(
            ("GRANIAN_", "UVICORN_")
        ):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def django_project() -> None:
    """Django set up in the test process with the test project's settings, for in-process tests.

    What a message says is asserted by calling the code (``call_command``, the checks) under
    ``override_settings``; a subprocess is kept for what only a process shows.
    """
    import django

    django.setup()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database file shared by tests that need tables (admin, tasks)."""
    from harness import run_manage

    path = str(tmp_path_factory.mktemp("db") / "db.sqlite3")
    result = run_manage("migrate", "--noinput", db=path)
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(autouse=True)
def own_heartbeat_directory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Heartbeat files (and the supervisor's list of processes) in a directory of this test's.

    Every child a test starts inherits the variable; testproject/settings.py makes it the
    default HEARTBEAT_DIR. A short path under the system temporary directory, not tmp_path.
    """
    directory = tempfile.mkdtemp(prefix="hb-")
    monkeypatch.setenv("PRODSERVER_TEST_HEARTBEAT_DIR", directory)
    yield
    shutil.rmtree(directory, ignore_errors=True)

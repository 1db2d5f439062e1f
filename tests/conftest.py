from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database file shared by tests that need tables (admin, tasks)."""
    from harness import run_manage

    path = str(tmp_path_factory.mktemp("db") / "db.sqlite3")
    result = run_manage("migrate", "--noinput", db=path)
    assert result.returncode == 0, result.stderr
    return path

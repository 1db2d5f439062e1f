"""Export the example project (and test-project settings) the way a user does: ``manage.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness import run_manage

EXAMPLE = Path(__file__).resolve().parent.parent / "example"
GOLDEN = Path(__file__).resolve().parent / "golden" / "export"


def example_env(**extra: str) -> dict[str, str]:
    """The example's settings as they are by default: no port or database chosen by a test."""
    unset = ("PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "DJANGO_SETTINGS_MODULE", "DEMO_PORT")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update({"PYTHONUNBUFFERED": "1", **extra})
    return env


def export_example(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``python manage.py prodserver --export …`` in example/."""
    return subprocess.run(
        [sys.executable, "manage.py", "prodserver", "--export", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=example_env(**extra),
        cwd=str(EXAMPLE),
        check=False,
    )


def export_testproject(
    processes: Mapping[str, Any],
    *args: str,
    settings: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``manage.py prodserver --export …`` in the test project with these processes."""
    return run_manage("prodserver", "--export", *args, processes=processes, settings=settings, env=env)


def golden(fmt: str, name: str) -> str:
    return (GOLDEN / fmt / name).read_text(encoding="utf-8")


def read_tree(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): path.read_text(encoding="utf-8")
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }

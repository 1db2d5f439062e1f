"""``prodserver --export systemd``: units that ``systemd-analyze verify`` accepts without a word.

``verify`` exits 0 on unknown keys and only prints them, so the test asserts empty output.
The units point at this interpreter and the real example directory, which verify checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from export_support import EXAMPLE, export_example, export_testproject, read_tree

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"


def unit(text: str) -> dict[str, list[str]]:
    """``Key=value`` lines by key (a key may repeat), comments and section headers left out."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def verify(directory: Path) -> subprocess.CompletedProcess[str]:
    names = sorted(p.name for p in directory.iterdir())
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        capture_output=True,
        text=True,
        cwd=directory,
        check=False,
    )


def test_the_example_units_verify_without_any_output(tmp_path: Path) -> None:
    out = tmp_path / "units"
    result = export_example("systemd", "--output", str(out))
    assert result.returncode == 0, result.stderr
    files = read_tree(out)
    assert sorted(files) == [
        "example-release.service",
        "example-web.service",
        "example-worker.service",
        "example.target",
    ]
    checked = verify(out)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")

    web = unit(files["example-web.service"])
    assert web["ExecStart"] == [f"{os.path.abspath(sys.executable)} {EXAMPLE}/manage.py prodserver web"]
    assert web["WorkingDirectory"] == [str(EXAMPLE)]
    assert web["EnvironmentFile"] == [f"-{EXAMPLE}/.env"]
    assert web["KillMode"] == ["mixed"]
    assert web["KillSignal"] == ["SIGTERM"]
    assert web["TimeoutStopSec"] == ["30"]  # above the 25 s graceful budget
    assert web["Restart"] == ["on-failure"]
    assert web["Requires"] == ["example-release.service"]
    assert web["After"] == ["network-online.target example-release.service"]
    release = unit(files["example-release.service"])
    assert release["Type"] == ["oneshot"]
    assert release["ExecStart"] == [
        f"{os.path.abspath(sys.executable)} {EXAMPLE}/manage.py prodserver release"
    ]
    target = unit(files["example.target"])
    assert target["Wants"] == ["example-web.service example-worker.service"]


def test_the_stop_signal_and_restart_policy_come_from_the_setting(tmp_path: Path) -> None:
    processes = {
        "web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000"}},
        "jobs": {
            "BACKEND": "django_prodserver.backends.command.ManagementCommand",
            "ARGS": ["check"],
            "STOP_SIGNAL": "SIGINT",
            "RESTART": "never",
        },
    }
    out = tmp_path / "units"
    result = export_testproject(processes, "systemd", "--output", str(out))
    assert result.returncode == 0, result.stderr
    files = read_tree(out)
    assert sorted(files) == ["tests-jobs.service", "tests-web.service", "tests.target"]
    jobs = unit(files["tests-jobs.service"])
    assert (jobs["KillSignal"], jobs["Restart"]) == (["SIGINT"], ["no"])
    assert "Requires" not in jobs
    checked = verify(out)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_a_format_of_several_files_needs_an_output_directory() -> None:
    result = export_testproject({"web": {"BACKEND": GUNICORN}}, "systemd")
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: --export systemd writes 2 files (tests-web.service, tests.target): add --output DIR.\n"
    )

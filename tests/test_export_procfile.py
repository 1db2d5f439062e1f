"""``prodserver --export procfile``: the example's Procfile, accepted and run by honcho."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from contract import accepts
from export_support import EXAMPLE, example_env, export_example, export_testproject, golden
from harness import Child, free_port, wait_until

HONCHO = Path(sys.executable).with_name("honcho")


def test_the_example_procfile_matches_the_golden_file() -> None:
    result = export_example("procfile")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == golden("procfile", "Procfile")


def test_honcho_accepts_the_procfile(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text(golden("procfile", "Procfile"))
    result = subprocess.run(
        [str(HONCHO), "-f", str(tmp_path / "Procfile"), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Valid procfile detected (release, web, worker)" in result.stderr


def test_honcho_starts_the_web_line_and_it_serves(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(golden("procfile", "Procfile"))
    shutil.copytree(EXAMPLE, tmp_path / "app", ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
    port = free_port()
    env = example_env(DEMO_PORT=str(port), DEMO_DB=str(tmp_path / "db.sqlite3"))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    child = Child(
        ["-f", str(procfile), "-d", str(tmp_path / "app"), "--no-colour", "start", "web"],
        env,
        cwd=tmp_path / "app",
        command=[str(HONCHO)],
    )
    try:
        response = child.wait_http(f"http://127.0.0.1:{port}/healthz/", timeout=90)
        assert response.status == 200, child.output
        # honcho starts each process in a session of its own, so a SIGKILL to honcho's group
        # would leave the server running: SIGTERM, as a platform sends it, lets honcho stop it.
        child.stop(signal.SIGTERM, timeout=40)
        wait_until("the server stopped with honcho", lambda: not accepts("127.0.0.1", port), child)
    finally:
        child.kill_group()


def test_several_one_shots_are_one_release_line_run_in_settings_order() -> None:
    command = {"BACKEND": "django_prodserver.backends.command.ManagementCommand", "ONESHOT": True}
    processes = {
        "migrate": {**command, "ARGS": ["migrate", "--noinput"]},
        "web": {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"},
        "static": {**command, "ARGS": ["check"]},
    }
    result = export_testproject(processes, "procfile")
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if not line.startswith("#")] == [
        "release: python manage.py prodserver migrate static",
        "web: python manage.py prodserver web",
    ]

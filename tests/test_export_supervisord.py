"""``prodserver --export supervisord``: a fragment supervisor's own config parser accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from export_support import EXAMPLE, export_example, export_testproject

#: Parse with supervisord's own options class, as ``supervisord -c`` does, and report what it read.
PARSE = """
import json, sys
from supervisor.options import ServerOptions
options = ServerOptions()
options.realize(args=["-c", sys.argv[1]])
print(json.dumps({
    group.name: [
        {key: getattr(p, key) for key in (
            "name", "command", "directory", "stopsignal", "stopwaitsecs", "stopasgroup",
            "killasgroup", "autorestart", "exitcodes")}
        for p in group.process_configs
    ]
    for group in options.process_group_configs
}, default=str))
"""


def parse(tmp_path: Path, fragment: str) -> dict[str, Any]:
    (tmp_path / "programs.conf").write_text(fragment)
    main = tmp_path / "supervisord.conf"
    main.write_text(
        f"[supervisord]\nlogfile={tmp_path}/supervisord.log\npidfile={tmp_path}/supervisord.pid\n"
        f"[include]\nfiles = {tmp_path}/programs.conf\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", PARSE, str(main)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_supervisor_reads_the_example_programs_as_written(tmp_path: Path) -> None:
    result = export_example("supervisord")
    assert (result.returncode, result.stderr) == (0, "")
    (web, worker) = parse(tmp_path, result.stdout)["example"]
    python = os.path.abspath(sys.executable)
    assert web == {
        "name": "example-web",
        "command": f"{python} {EXAMPLE}/manage.py prodserver web",
        "directory": str(EXAMPLE),
        "stopsignal": 15,
        "stopwaitsecs": 30,
        "stopasgroup": True,
        "killasgroup": True,
        "autorestart": "<class 'supervisor.datatypes.RestartWhenExitUnexpected'>",
        "exitcodes": [0],
    }
    assert worker["command"] == f"{python} {EXAMPLE}/manage.py prodserver worker"
    assert (
        f"{python} {EXAMPLE}/manage.py prodserver release" in result.stdout
    )  # the release step, as a command to run first


def test_stop_signal_and_a_process_that_never_restarts(tmp_path: Path) -> None:
    processes = {
        "jobs": {
            "BACKEND": "django_prodserver.backends.command.ManagementCommand",
            "ARGS": ["check"],
            "STOP_SIGNAL": "SIGINT",
            "RESTART": "never",
        }
    }
    result = export_testproject(processes, "supervisord")
    assert result.returncode == 0, result.stderr
    (jobs,) = parse(tmp_path, result.stdout)["tests"]
    assert (jobs["stopsignal"], jobs["autorestart"]) == (2, False)

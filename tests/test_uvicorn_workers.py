"""Uvicorn with several workers becomes uvicorn's own CLI once its argv is checked.

Uvicorn spawns its workers as fresh interpreters, so a ``manage.py`` master that loaded
Django would share nothing with them (the measured cost was 20 MiB and 0.35 s). The
process replaces itself with ``python -m uvicorn`` and the exact argv ``--dry-run`` prints.
"""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

from harness import exits_cleanly, free_port, prodserver, run_manage

UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")


def test_several_workers_run_as_uvicorns_own_master() -> None:
    port = free_port()
    processes = {"web": {"BACKEND": UVICORN, "ARGS": {"host": "127.0.0.1", "port": port, "workers": 2}}}
    dry_run = run_manage("prodserver", "web", "--dry-run", processes=processes)
    words = shlex.split(dry_run.stdout.splitlines()[0])
    # The command may start with environment assignments (the project's app for the gateway).
    printed = words[words.index("uvicorn") :]
    with prodserver("web", processes=processes) as child:
        assert child.wait_http(f"http://127.0.0.1:{port}/").status == 200
        assert cmdline(child.pid)[1:] == ["-m", "uvicorn", *printed[1:]]
        child.send(signal.SIGTERM)
        exits_cleanly(child)


def test_one_worker_keeps_serving_from_manage_py() -> None:
    port = free_port()
    processes = {"web": {"BACKEND": UVICORN, "ARGS": {"host": "127.0.0.1", "port": port, "workers": 1}}}
    with prodserver("web", processes=processes) as child:
        assert child.wait_http(f"http://127.0.0.1:{port}/").status == 200
        assert "prodserver" in cmdline(child.pid)
        child.send(signal.SIGTERM)
        exits_cleanly(child)

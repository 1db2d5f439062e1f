"""Start-up of ``manage.py prodserver web`` at two revisions of django-prodserver, as ratios.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/startup_revisions.py --base da6575c [--rounds 15] [--backend gunicorn]

The base revision is checked out into a temporary git worktree and put first on PYTHONPATH,
so both sides run the same interpreter, project and server versions; only prodserver's code
differs. Each round starts both sides in turn (A, B, B, A, …) and times spawn → the first
accepted TCP connection on the server's port, then stops it with SIGTERM. Printed: the
median of each side and the median of the per-round ratios (current ÷ base).
"""

from __future__ import annotations

import argparse
import compileall
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from harness import MANAGE, TESTS_DIR, child_env, free_port  # noqa: E402

BACKENDS = {
    "gunicorn": ("django_prodserver.backends.gunicorn.GunicornServer", "bind", "127.0.0.1:{port}"),
    "uvicorn": ("django_prodserver.backends.uvicorn.UvicornServer", "port", "{port}"),
    "granian": ("django_prodserver.backends.granian.GranianWSGIServer", "port", "{port}"),
    "waitress": ("django_prodserver.backends.waitress.WaitressServer", "port", "{port}"),
}


def accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def time_to_accept(src: Path, backend: str, extra: list[str]) -> float:
    path, key, value = BACKENDS[backend]
    port = free_port()
    args: dict[str, object] = {key: value.format(port=port)}
    if key == "port":
        args["host"] = "127.0.0.1"
    if backend != "waitress":
        args["workers"] = 1
    env = child_env({"web": {"BACKEND": path, "ARGS": args}})
    env["PYTHONPATH"] = os.pathsep.join([str(src), env["PYTHONPATH"]])
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(MANAGE), "prodserver", "web", *extra],
        cwd=TESTS_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = started + 30
        while not accepts(port):
            if child.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"{backend} at {src} did not start")
            time.sleep(0.002)
        return time.perf_counter() - started
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the git revision to compare against")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="gunicorn")
    parser.add_argument("--skip-checks", action="store_true", help="start with --skip-checks")
    options = parser.parse_args()
    extra = ["--skip-checks"] if options.skip_checks else []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), options.base], cwd=ROOT, check=True)
        try:
            sides = {"current": ROOT / "src", options.base: base / "src"}
            for src in sides.values():
                # Both as installed: with PYTHONDONTWRITEBYTECODE=1 a checkout recompiles every start.
                compileall.compile_dir(src, quiet=1)
            times: dict[str, list[float]] = {name: [] for name in sides}
            for round_ in range(options.rounds):
                order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
                for name in order:
                    times[name].append(time_to_accept(sides[name], options.backend, extra))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=True)
    ratios = [a / b for a, b in zip(times["current"], times[options.base], strict=True)]
    for name, values in times.items():
        print(f"{name:>12}: median {statistics.median(values) * 1000:.0f} ms over {len(values)} starts")
    print(f"ratio current/{options.base}: median {statistics.median(ratios):.2f} (per-round pairs)")


if __name__ == "__main__":
    main()

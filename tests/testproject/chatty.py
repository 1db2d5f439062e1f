"""A custom backend (the public extension API) that prints lines and then waits for SIGTERM.

The supervisor tests run it as a real child to see its output prefixed and complete, kill it,
crash it, make it ignore the stop signal or leave a grandchild behind in its process group.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from types import FrameType

from django_prodserver.backends.base import BaseServerBackend


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatty")
    parser.add_argument("--lines", type=int, default=3, help="numbered lines to print at start")
    parser.add_argument("--flood", type=int, default=0, help="lines to print as fast as possible")
    parser.add_argument("--exit", type=int, default=None, help="exit with this code after printing")
    parser.add_argument("--ignore", action="append", default=[], help="signal names to ignore")
    parser.add_argument("--grandchild", action="store_true", help="start a sleeper in our group")
    parser.add_argument("--spam", action="store_true", help="after 'ready', print lines until stopped")
    parser.add_argument("--setuid", type=int, default=None, help="switch to this user (and group) id first")
    parser.add_argument(
        "--drain",
        default=None,
        help="like django-tasks' db_worker: the first stop signal finishes the task (once this file "
        "exists), a second one interrupts it (exit 1)",
    )
    parser.add_argument(
        "--raw", action="store_true", help="print bytes that are not UTF-8 and a partial line"
    )
    return parser


class Chatty(BaseServerBackend):
    program = "chatty"

    def start_server(self, *args: str) -> None:
        options = _parser().parse_args(args)
        name = self.name
        out = sys.stdout
        if options.setuid is not None:  # as Celery's --uid does
            os.setgid(options.setuid)
            os.setuid(options.setuid)
        for sig in options.ignore:
            signal.signal(signal.Signals[sig], signal.SIG_IGN)
        if options.grandchild:
            sleeper = subprocess.Popen(  # noqa: S603 - our own interpreter
                [
                    sys.executable,
                    "-c",
                    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)",
                ]
            )
            out.write(f"grandchild pid={sleeper.pid}\n")
        if options.drain:
            _drain_on_stop(name, options.drain)
            return
        for number in range(1, options.lines + 1):
            out.write(f"{name} line {number}\n")
        if options.flood:
            out.writelines(f"{name} flood {number}\n" for number in range(options.flood))
        out.write(f"ready pid={os.getpid()}\n")
        out.flush()
        if options.raw:
            sys.stdout.buffer.write(b"caf\xe9 latin-1\n")
            sys.stdout.buffer.write(b"no newline at the end")
            sys.stdout.buffer.flush()
        if options.exit is not None:
            raise SystemExit(options.exit)

        def stop(signum: int, frame: FrameType | None) -> None:
            raise _Stop(signum)

        if "SIGTERM" not in options.ignore:
            signal.signal(signal.SIGTERM, stop)
        try:
            number = 0
            while options.spam:
                number += 1
                out.write(f"{name} spam {number} {'.' * 100}\n")
            while True:
                time.sleep(3600)
        except _Stop as stopped:
            out.write(f"{name} stopping on {signal.Signals(stopped.args[0]).name}\n")
            out.flush()


class _Stop(Exception):
    pass


def _drain_on_stop(name: str, done: str) -> None:
    out = sys.stdout
    stopping: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        signame = signal.Signals(signum).name
        if stopping:
            out.write(f"{name} interrupted by a second {signame}\n")
            out.flush()
            raise SystemExit(1)
        stopping.append(signum)
        out.write(f"{name} draining after {signame}\n")
        out.flush()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    out.write(f"ready pid={os.getpid()}\n")
    out.flush()
    while not (stopping and os.path.exists(done)):
        time.sleep(0.05)
    out.write(f"{name} finished its task\n")
    out.flush()

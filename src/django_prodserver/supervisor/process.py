"""One child: ``manage.py prodserver NAME`` in its own session, output on one pipe.

Its own session (hence its own process group) keeps the terminal's Ctrl-C away from the
children, so only the supervisor decides who stops when, and lets us signal or kill the
whole group: a server master and the workers it forked go together.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from django_prodserver.supervisor.child import MARKER, prctl, set_die_with_parent


def manage_command(argv0: str | None = None) -> list[str]:
    """How this process was started, for starting ``prodserver NAME`` the same way.

    ``python -m django`` leaves ``django/__main__.py`` in ``sys.argv[0]``; running that file
    as a script would put the ``django`` package directory first on ``sys.path``, where its
    ``http`` package hides the standard library's, so we say ``-m django`` instead.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    if os.path.basename(argv0) == "__main__.py":
        return [sys.executable, "-m", os.path.basename(os.path.dirname(argv0)) or "django"]
    return [sys.executable, os.path.abspath(argv0)]


def child_argv(name: str, options: Mapping[str, Any], argv0: str | None = None) -> list[str]:
    """``prodserver NAME`` with the same settings; checks were run once, by the supervisor."""
    argv = [*manage_command(argv0), "prodserver", name, "--skip-checks"]
    for option in ("settings", "pythonpath"):
        if options.get(option):
            argv.append(f"--{option}={options[option]}")
    if options.get("traceback"):
        argv.append("--traceback")
    return argv


def child_environment(
    environ: Mapping[str, str] | None = None, shutdown_timeout: float | None = None
) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    # Output reaches us line by line instead of in 8 KiB blocks when the program exits.
    env["PYTHONUNBUFFERED"] = "1"
    if shutdown_timeout is not None:
        # The child treats a repeated stop signal within this window as the same stop.
        env[MARKER] = f"{shutdown_timeout:g}"
    return env


def _die_with_parent(sig: int) -> Callable[[], None] | None:
    """Linux: the child gets ``sig`` if we die, even by SIGKILL, so it never runs on orphaned.

    Set between fork and exec (``prctl(PR_SET_PDEATHSIG)`` survives exec); if we died before
    that, the check of the parent pid catches it.
    """
    call = prctl()
    if call is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        set_die_with_parent(call, sig, parent)

    return preexec


class Child:
    """A started child. ``pid`` doubles as its process group id."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.name = name
        self._popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            preexec_fn=_die_with_parent(stop_signal),  # noqa: PLW1509 - the supervisor has no threads
        )
        self.pid = self._popen.pid
        self._stdout: IO[bytes] = self._popen.stdout  # type: ignore[assignment]  # stdout=PIPE
        os.set_blocking(self._stdout.fileno(), False)

    def fileno(self) -> int:
        return self._stdout.fileno()

    def read(self) -> bytes | None:
        """What the pipe has now: ``b""`` at end of output, ``None`` when nothing is waiting."""
        try:
            return os.read(self._stdout.fileno(), 65536)
        except BlockingIOError:
            return None

    def close(self) -> None:
        self._stdout.close()

    def poll(self) -> int | None:
        """Reap the child if it has exited; its Popen-style return code, else None."""
        if self._popen.returncode is not None:
            return self._popen.returncode
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            self._popen.returncode = 255
            return 255
        if pid == 0:
            return None
        return self.reaped(status)

    def reaped(self, status: int) -> int:
        """Record a wait status collected elsewhere (by :func:`reap_any` as PID 1)."""
        self._popen.returncode = os.waitstatus_to_exitcode(status)
        return self._popen.returncode

    def send(self, sig: int) -> None:
        """Signal the child alone: a server master handles its own workers gracefully."""
        if self._popen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def group_alive(self) -> bool:
        """Whether anything of the child's process group is still running."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def reap_any() -> list[tuple[int, int]]:
    """Every exited child as (pid, wait status), ours or not.

    Only used as PID 1 (a container's init): orphans, such as the workers of a server master
    that was killed, are then re-parented to us and stay zombies unless we reap them.
    """
    found = []
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            found.append((pid, status))
    return found

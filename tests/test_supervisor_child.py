"""The child side of a group signal: a repeated stop signal inside the window is dropped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from types import FrameType

from django_prodserver.supervisor.child import (
    MARKER,
    PR_SET_PDEATHSIG,
    RepeatGuard,
    install,
    set_die_with_parent,
)
from harness import wait_until


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def python(script: str, supervised: bool = False) -> tuple[str, str]:
    """What a fresh interpreter running ``script`` prints on stdout and stderr (it must exit 0);
    ``supervised``: as a child of the supervisor, with a 25 s shutdown window."""
    env = {**os.environ, MARKER: "25"} if supervised else None
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def test_only_the_first_stop_signal_in_the_window_reaches_the_handler() -> None:
    clock = Clock()
    seen: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)

    guarded = RepeatGuard(25, frozenset({signal.SIGTERM}), clock).wrap(handler)
    guarded(signal.SIGTERM, None)
    clock.now = 24.9
    guarded(signal.SIGINT, None)  # the supervisor may forward a different stop signal
    assert seen == [signal.SIGTERM]
    clock.now = 26
    guarded(signal.SIGTERM, None)  # past the window: someone means it
    assert seen == [signal.SIGTERM, signal.SIGTERM]


def test_without_the_marker_nothing_is_installed() -> None:
    assert install({}) is None
    assert install({MARKER: "nan"}) is None
    assert install({MARKER: "0"}) is None


def test_installed_handlers_look_like_the_programs_own_and_forks_start_afresh() -> None:
    """The program sees its own handler back (asyncio compares them); a forked worker is fresh."""
    script = textwrap.dedent(
        """
        import os, signal
        from django_prodserver.supervisor.child import install
        # Python's own handler, or SIG_IGN when started from a shell's background job.
        sigint = signal.getsignal(signal.SIGINT)
        guard = install(stop_signal=signal.SIGUSR1)
        def handler(signum, frame):
            pass
        assert signal.signal(signal.SIGTERM, handler) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGTERM) is handler
        assert signal.signal(signal.SIGTERM, signal.SIG_DFL) is handler
        assert signal.getsignal(signal.SIGINT) is sigint
        assert signal.SIGUSR1 in guard.signals
        guard.first = 1.0
        pid = os.fork()
        if pid == 0:
            os._exit(0 if guard.first is None else 3)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        print("ok")
        """
    )
    assert python(script, supervised=True) == ("ok\n", "")


def test_a_signal_the_process_raises_itself_is_not_a_repeat() -> None:
    """Uvicorn re-raises the stop signal after its shutdown, for the handler it replaced."""
    script = textwrap.dedent(
        """
        import os, signal
        from django_prodserver.supervisor.child import install
        install()
        seen = []
        signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
        os.kill(os.getpid(), signal.SIGTERM)  # the platform
        os.kill(os.getpid(), signal.SIGTERM)  # the supervisor: dropped
        signal.raise_signal(signal.SIGTERM)  # the program itself
        print(len(seen))
        """
    )
    assert python(script, supervised=True) == ("2\n", "prodserver: SIGTERM ignored: already stopping\n")


def test_a_process_the_child_forks_may_change_its_group_and_live() -> None:
    # A gunicorn worker drops privileges (setgid/setuid) in a process the supervised child
    # forked: its parent is that child, not the supervisor, and it must not kill itself.
    script = (
        "import os, signal\n"
        "from django_prodserver.supervisor.child import keep_dying_with_parent\n"
        "keep_dying_with_parent(signal.SIGTERM)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setgid(os.getgid())\n"
        "    os._exit(0)\n"
        "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    assert python(script)[0] == "0\n"


def test_die_with_parent_asks_the_kernel_and_signals_at_once_when_the_parent_is_gone() -> None:
    # Shared by the supervisor's children, their credential changes and the DRAIN shim's server.
    calls: list[tuple[int, ...]] = []
    received: list[int] = []

    def record(*args: int) -> int:
        calls.append(args)
        return 0

    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: received.append(signum))
    try:
        set_die_with_parent(record, signal.SIGUSR1, os.getppid())
        assert (calls, received) == ([(PR_SET_PDEATHSIG, signal.SIGUSR1, 0, 0, 0)], [])
        set_die_with_parent(record, signal.SIGUSR1, os.getpid())  # not our parent: it is gone
        wait_until("the signal arrived", lambda: received, timeout=5)
        assert received == [signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_the_die_with_parent_modules_do_not_load_ctypes() -> None:
    # A fresh interpreter: ctypes is loaded only when prctl() is first called.
    script = (
        "import sys\n"
        "import django_prodserver.draining, django_prodserver.supervisor.child, django_prodserver.health\n"
        "print('ctypes' in sys.modules)\n"
    )
    assert python(script)[0] == "False\n"

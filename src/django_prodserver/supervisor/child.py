"""In a supervised child: a repeated stop signal within the shutdown window is the same stop.

Heroku signals every process of a dyno, and systemd's default ``KillMode=control-group``
every process of the unit; the supervisor then forwards its own stop signal. So a child gets
SIGTERM twice within milliseconds, and many programs read a second stop signal as "force it":
Celery's soft shutdown cancels the running tasks, django-tasks' ``db_worker`` calls
``sys.exit(1)`` inside the task (recorded as failed), waitress stops draining its requests.

The child cannot tell the platform's signal from the supervisor's, and the programs install
their handlers after we hand over to them. So, in a child the supervisor started (it sets
:data:`MARKER` to its ``SHUTDOWN_TIMEOUT``), every Python-level handler for a stop signal is
wrapped: the first stop signal goes through; any stop signal in the next ``SHUTDOWN_TIMEOUT``
seconds is dropped with one line on stderr. A stop that really must be forced comes as
SIGKILL from the supervisor, at its deadline or on a second signal it received itself.

Programs whose signal handling is not Python's (granian's Rust runtime, uWSGI) are not
covered; a repeated SIGTERM leaves them draining anyway (uWSGI with the hooks its backend
adds), and docs/supervisor.md tells systemd users to use ``KillMode=mixed``.

Also here: the die-with-parent signal the supervisor sets on each child (Linux
``PR_SET_PDEATHSIG``) is cleared by the kernel when a process changes its user or group, as
Celery's ``--uid``/``--gid`` does; we set it again right after such a change.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

#: Set by the supervisor in each child's environment: the shutdown window in seconds.
MARKER = "PRODSERVER_SUPERVISED"

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGQUIT})

PR_SET_PDEATHSIG = 1
#: The calls that change credentials, and so clear the die-with-parent signal (prctl(2)).
CREDENTIAL_CALLS = (
    "setuid",
    "setgid",
    "seteuid",
    "setegid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
)


def prctl() -> Callable[..., int] | None:
    """Linux' ``prctl(2)``, or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes  # only under the supervisor or a DRAIN shim: a process started alone never needs it

        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return function


def set_die_with_parent(call: Callable[..., int], sig: int, parent: int) -> None:
    """Ask the kernel (``call`` is :func:`prctl`) for ``sig`` when ``parent`` dies; if it already
    has, this process would never get it, so send it now.

    The one helper for the supervisor's children (between fork and exec), their changes of
    user or group, and the server under a DRAIN shim (draining.py).
    """
    call(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)


def keep_dying_with_parent(sig: int) -> None:
    """After each change of user or group in this process, set the die-with-parent signal again."""
    call = prctl()
    if call is None:
        return
    child, parent = os.getpid(), os.getppid()
    for name in CREDENTIAL_CALLS:
        original = getattr(os, name, None)
        if original is not None:
            setattr(os, name, _rearming(original, call, sig, child, parent))


def _rearming(
    original: Callable[..., None], call: Callable[..., int], sig: int, child: int, parent: int
) -> Callable[..., None]:
    def changed(*args: int) -> None:
        original(*args)
        # Only in the supervisor's own child: a process it forks (a gunicorn worker dropping
        # privileges, the server under a DRAIN shim) has another parent and signal of its own.
        if os.getpid() != child:
            return
        set_die_with_parent(call, sig, parent)

    return changed


#: The handler a guarded wrapper stands for, as an attribute of the wrapper.
_ORIGINAL = "_prodserver_unguarded"


class RepeatGuard:
    """Wraps stop-signal handlers so that only the first stop signal in the window reaches them."""

    def __init__(self, window: float, signals: frozenset[int], clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.signals = signals
        self._clock = clock
        #: When the first stop signal arrived; None: none yet.
        self.first: float | None = None
        #: The process is raising a signal at itself (uvicorn re-raises the stop signal after
        #: its shutdown so the previous handler sees it): that one is not a repeat.
        self.own = False

    def reset(self) -> None:
        """A forked process (a server's new worker) has received nothing yet."""
        self.first = None

    def wrap(self, handler: Any) -> Any:
        if not callable(handler) or hasattr(handler, _ORIGINAL):
            return handler

        def guarded(signum: int, frame: FrameType | None) -> Any:
            now = self._clock()
            if not self.own and self.first is not None and now - self.first < self.window:
                name = signal.Signals(signum).name
                os.write(2, f"prodserver: {name} ignored: already stopping\n".encode())
                return None
            if not self.own or self.first is None:
                self.first = now
            return handler(signum, frame)

        setattr(guarded, _ORIGINAL, handler)
        return guarded

    @staticmethod
    def unwrap(handler: Any) -> Any:
        """What the program installed: ``getsignal`` and ``signal``'s return value show that."""
        return getattr(handler, _ORIGINAL, handler)


def _window(environ: Mapping[str, str]) -> float | None:
    try:
        window = float(environ.get(MARKER, ""))
    except ValueError:
        return None
    return window if math.isfinite(window) and window > 0 else None


def install(environ: Mapping[str, str] | None = None, stop_signal: int | None = None) -> RepeatGuard | None:
    """Under the supervisor: wrap current and future stop-signal handlers of this process."""
    window = _window(os.environ if environ is None else environ)
    if window is None:
        return None
    signals = STOP_SIGNALS | ({stop_signal} if stop_signal else set())
    guard = RepeatGuard(window, frozenset(signals))
    original_signal, original_getsignal = signal.signal, signal.getsignal
    original_raise = signal.raise_signal

    def guarded_signal(signum: int, handler: Any) -> Any:
        if signum in guard.signals:
            handler = guard.wrap(handler)
        return guard.unwrap(original_signal(signum, handler))

    def unwrapped_getsignal(signum: int) -> Any:
        return guard.unwrap(original_getsignal(signum))

    def raise_own(signum: int) -> None:
        # raise_signal() runs the Python handler before it returns, so the flag covers it.
        guard.own = True
        try:
            original_raise(signum)
        finally:
            guard.own = False

    signal.raise_signal = raise_own
    signal.signal = guarded_signal  # type: ignore[assignment]
    signal.getsignal = unwrapped_getsignal  # type: ignore[assignment]
    for signum in guard.signals:
        current = original_getsignal(signum)
        if callable(current):
            original_signal(signum, guard.wrap(current))
    os.register_at_fork(after_in_child=guard.reset)
    keep_dying_with_parent(stop_signal or signal.SIGTERM)
    return guard

"""Drain before stop: after SIGTERM, readiness fails for ``DRAIN`` seconds while requests are served.

A Kubernetes Service (or a cloud load balancer) learns that a pod is terminating only after
the pod was told to stop (kubernetes#67592): for a few seconds it keeps sending new requests.
A server that stops accepting at once drops them; the usual workaround is a ``preStop``
sleep. With ``DRAIN`` the process does that itself: on SIGTERM ``/readyz/`` answers 503 and
the server keeps serving; after the delay the server gets the SIGTERM and stops gracefully.

The process that receives SIGTERM is the server's master (gunicorn's arbiter, uvicorn,
granian's Rust runtime…), whose handlers we cannot wrap, and readiness is answered in its
workers, forked or spawned. So the signal is held one level up: the ``prodserver`` process
forks, the child becomes the server, and the parent stays behind as a small shim that owns
the stop signal. The flag the workers read is a file in a private directory, named by an
environment variable every worker inherits: one ``stat`` per probe, whatever the server.

Only a signal sent to the ``prodserver`` process itself is held (Kubernetes, ``docker stop``,
systemd ``KillMode=mixed``, the supervisor): a signal sent to the whole process group
(Heroku, systemd's default ``KillMode=control-group``) reaches the server directly and stops
it at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time

#: Names the flag file; set in the environment the server and its workers inherit.
ENVIRONMENT = "PRODSERVER_DRAINING_FLAG"
#: The signal that starts the drain; a second one starts the graceful stop at once.
DRAIN_SIGNAL = signal.SIGTERM
#: Signals the shim passes on to the server as they come (gunicorn's HUP, TTIN, TTOU, …).
FORWARDED = (
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGWINCH,
)
_HELD = {DRAIN_SIGNAL, signal.SIGCHLD, *FORWARDED}


def draining() -> bool:
    """Whether this process belongs to a server that was told to stop and is draining."""
    flag = os.environ.get(ENVIRONMENT)
    return bool(flag) and os.path.exists(flag)  # type: ignore[arg-type]


def hold_stop_signal(seconds: float, name: str, stderr: object) -> None:
    """Fork; return in the child (which goes on to start the server). The parent never returns:
    it holds SIGTERM for ``seconds`` while the flag is up, then passes it on, and exits with
    the server's exit status."""
    directory = tempfile.mkdtemp(prefix="prodserver-drain-")
    flag = os.path.join(directory, "draining")
    os.environ[ENVIRONMENT] = flag
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    # Blocked before the fork, so no signal or child exit falls between fork and wait.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        _die_with_parent(parent)
        return
    try:
        code = _shim(pid, seconds, flag, name, stderr)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    raise SystemExit(code)


def _shim(pid: int, seconds: float, flag: str, name: str, stderr: object) -> int:
    deadline: float | None = None
    while True:
        if deadline is None:
            info: signal.struct_siginfo | None = signal.sigwaitinfo(_HELD)
        else:
            info = signal.sigtimedwait(_HELD, max(0.0, deadline - time.monotonic()))
        if info is None:  # the drain is over: now the server stops, gracefully
            deadline = None
            _send(pid, DRAIN_SIGNAL)
            continue
        signum = info.si_signo
        if signum == signal.SIGCHLD:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                return code if code >= 0 else 128 - code
        elif signum == DRAIN_SIGNAL and deadline is None and not os.path.exists(flag):
            open(flag, "x").close()  # noqa: SIM115 - an empty marker file
            deadline = time.monotonic() + seconds
            stderr.write(  # type: ignore[attr-defined]
                f"prodserver: {name}: draining: /readyz/ answers 503 for {seconds:g} s while "
                "requests are served, then the graceful stop begins."
            )
        else:
            # A second SIGTERM while draining: stop now. Anything else: the server's to handle.
            if signum == DRAIN_SIGNAL:
                deadline = None
            _send(pid, signum)


def _send(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _die_with_parent(parent: int) -> None:
    """Linux: the server gets SIGTERM (a graceful stop) if the shim is killed, never runs orphaned."""
    # Here, not at the top: health.py imports this module in every web worker.
    from django_prodserver.supervisor.child import prctl, set_die_with_parent

    call = prctl()
    if call is not None:
        set_die_with_parent(call, DRAIN_SIGNAL, parent)

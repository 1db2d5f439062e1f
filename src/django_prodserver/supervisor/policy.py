"""What to do when a child exits: pure functions, so every rule is testable without a process.

The rules follow the supervisors people already know: supervisord's ``startsecs`` /
``startretries`` (a child that dies while starting is retried a few times, then given up),
systemd's and Docker's ``on-failure`` (a clean exit is not restarted), exponential backoff
between restarts, and honcho's "one exits, all stop" for ``RESTART = "never"``.
"""

from __future__ import annotations

import signal
from typing import Literal

from django_prodserver.conf.processes import ProcessConfig
from django_prodserver.conf.supervisor_settings import SupervisorConfig
from django_prodserver.records import record

Action = Literal["restart", "done", "stop-all", "crash-loop"]


def exit_code(returncode: int) -> int:
    """A Popen return code as a shell would report it: -N (killed by signal N) becomes 128+N."""
    return returncode if returncode >= 0 else 128 - returncode


def describe_exit(returncode: int) -> str:
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    return f"was killed by {name}"


def stopped_cleanly(returncode: int, stop_signal: int) -> bool:
    """After we asked a child to stop: exit 0, or death by the very signal we sent, is clean.

    Programs without a handler for the stop signal die by it; that is how they stop, and the
    shell convention 128+N for the same death counts too.
    """
    return returncode in (0, -stop_signal, 128 + stop_signal)


@record
class Decision:
    action: Action
    #: Consecutive failures, the one just seen included (0 after a clean exit).
    streak: int = 0
    #: Seconds to wait before the restart.
    delay: float = 0.0


def after_exit(
    process: ProcessConfig, returncode: int, uptime: float, streak: int, timing: SupervisorConfig
) -> Decision:
    """Decide about a long-running child that exited without being asked to.

    ``streak`` counts the failures in a row so far; a run that lasted ``start_seconds`` resets
    it, so a server that crashes once a day is restarted after the short delay every time,
    while one that cannot start backs off and is then given up.
    """
    if process.restart == "never":
        return Decision("stop-all")
    if returncode == 0:
        return Decision("done")
    early = uptime < timing.start_seconds
    streak = (streak if early else 0) + 1
    if early and streak > timing.start_retries:
        return Decision("crash-loop", streak)
    return Decision("restart", streak, backoff(streak, timing))


#: Doublings after which the delay is past any allowed maximum; a float cannot hold 2**1024.
MAX_DOUBLINGS = 32


def backoff(streak: int, timing: SupervisorConfig) -> float:
    """The delay before restart number ``streak`` of a run of failures: doubled each time, capped."""
    doublings = min(streak - 1, MAX_DOUBLINGS)
    return min(timing.restart_delay * 2.0**doublings, timing.restart_delay_max)

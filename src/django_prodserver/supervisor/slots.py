"""What the manager works with: the events it is fed, a started child, one slot per process.

Kept apart from :mod:`.manager` (the decisions) so the loop and the tests can build events
and fake children without the rules that act on them.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from django_prodserver.conf.processes import ProcessConfig
from django_prodserver.records import record


class Handle(Protocol):
    """A started child as the manager sees it; ``pid`` is also its process group id."""

    pid: int

    def send(self, sig: int) -> None: ...

    def signal_group(self, sig: int) -> None: ...

    def group_alive(self) -> bool: ...


Spawn = Callable[[ProcessConfig], Handle]
Clock = Callable[[], float]
Say = Callable[[str], None]


@record
class Exited:
    pid: int
    #: Popen style: the exit status, or -N when killed by signal N.
    returncode: int


@record
class Signalled:
    signum: int


Event = Exited | Signalled
State = Literal["idle", "running", "draining", "done"]
Phase = Literal["oneshots", "running", "stopping", "finished"]


@dataclass
class Slot:
    """One configured process across its restarts."""

    config: ProcessConfig
    state: State = "idle"
    handle: Handle | None = None
    started_at: float = 0.0
    #: Failures in a row (see :func:`~django_prodserver.supervisor.policy.after_exit`).
    streak: int = 0
    #: When an idle slot starts again; None: not scheduled.
    restart_at: float | None = None
    #: What follows once the group is gone: start again, or stay done.
    then_restart: bool = False
    #: We sent the stop signal (shutdown or SIGHUP restart).
    stopping: bool = False
    #: SIGHUP: start again as soon as it has stopped.
    reloading: bool = False
    #: When the group gets SIGKILL if still there (draining or SIGHUP); None: no deadline.
    kill_at: float | None = None
    killed_at: float | None = None
    #: The leftovers of its group got the stop signal.
    group_told: bool = False
    #: Children started for this slot so far; a later start that fails backs off.
    runs: int = 0

    @property
    def name(self) -> str:
        return self.config.name


def signame(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"

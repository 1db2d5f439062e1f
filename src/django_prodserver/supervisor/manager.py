"""The supervisor's decisions, driven by events: a child exited, a signal arrived, time passed.

Nothing here reads a pipe, waits, sleeps or installs a signal handler: the loop in
:mod:`~django_prodserver.supervisor.loop` turns the outside world into :class:`Exited` and
:class:`Signalled` events and calls :meth:`Manager.tick` when :meth:`Manager.next_wakeup`
says a timer is due. The clock and the way a child is started are passed in, so the tests
replay whole event histories (restart, backoff, crash loop, one deadline, exit codes) with a
fake clock in milliseconds, and the same code then runs real children.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable

from django_prodserver.conf.processes import ProcessConfig
from django_prodserver.conf.supervisor_settings import SUPERVISOR_SETTING as SETTING
from django_prodserver.conf.supervisor_settings import SupervisorConfig
from django_prodserver.supervisor.policy import (
    after_exit,
    backoff,
    describe_exit,
    exit_code,
    stopped_cleanly,
)
from django_prodserver.supervisor.slots import (
    Clock,
    Event,
    Exited,
    Handle,
    Phase,
    Say,
    Signalled,
    Slot,
    Spawn,
    signame,
)

__all__ = ["STOP_SIGNALS", "Clock", "Exited", "Handle", "Manager", "Signalled"]

#: How often we look whether what a dead child left in its process group is gone: those
#: processes are not our children, so no SIGCHLD tells us. Only while such a group drains.
GROUP_POLL = 0.05
#: After SIGKILL, how long we wait for a child (or its group) to vanish before giving up on it:
#: a process in uninterruptible sleep (D state) dies only when the kernel call returns.
KILL_GRACE = 5.0
#: Signals that stop everything; SIGQUIT too, so that it never leaves the children unsupervised.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)


class Manager:
    def __init__(
        self,
        processes: Iterable[ProcessConfig],
        timing: SupervisorConfig,
        *,
        spawn: Spawn,
        clock: Clock,
        say: Say,
    ) -> None:
        self.slots = [Slot(config) for config in processes]
        self.timing = timing
        self._spawn = spawn
        self._clock = clock
        self._say = say
        self.phase: Phase = "oneshots"
        self._failure: int | None = None
        self._deadline: float | None = None
        self._deadline_passed = False
        #: A stop signal came from outside (not a stop we began ourselves): the next one forces.
        self._stop_received = False

    # ----- public API ---------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.phase == "finished"

    @property
    def returncode(self) -> int:
        """The first failing child's code (128+N if a signal killed it), else 0."""
        return self._failure or 0

    def start(self) -> None:
        self._advance()

    def handle(self, event: Event) -> None:
        if isinstance(event, Exited):
            self._exited(event.pid, event.returncode)
        elif event.signum in STOP_SIGNALS:
            self._stop_signal(event.signum)
        elif event.signum == signal.SIGHUP:
            self._reload()

    def tick(self) -> None:
        """Act on whatever timer is due: restarts, drained groups, deadlines."""
        now = self._clock()
        if self._stop_deadline_due(now):
            self._deadline_passed = True
            waited = f"still running {self.timing.shutdown_timeout:g}s after the stop signal"
            for slot in self.slots:
                if slot.state == "running":
                    self._kill(slot, waited)
        for slot in self.slots:
            if slot.state == "running" and slot.killed_at is not None:
                if now >= slot.killed_at + KILL_GRACE:
                    self._abandon(slot, now)
            elif slot.state == "running" and self._due(slot.kill_at, now):
                self._kill(slot, f"did not stop within {self.timing.shutdown_timeout:g}s of SIGHUP")
            elif slot.state == "draining":
                self._check_drained(slot, now)
            elif slot.state == "idle" and self.phase == "running" and self._due(slot.restart_at, now):
                self._start(slot)
        self._maybe_finish()

    @staticmethod
    def _due(when: float | None, now: float) -> bool:
        return when is not None and now >= when

    def _stop_deadline_due(self, now: float) -> bool:
        return self.phase == "stopping" and not self._deadline_passed and self._due(self._deadline, now)

    def next_wakeup(self) -> float | None:
        """When :meth:`tick` must run next; None: only an event can change anything."""
        now = self._clock()
        times: list[float] = []
        if self.phase == "stopping" and not self._deadline_passed and self._deadline is not None:
            times.append(self._deadline)
        for slot in self.slots:
            if slot.state == "draining":
                poll = now + GROUP_POLL
                times.append(min(poll, slot.kill_at) if slot.kill_at and not slot.killed_at else poll)
            elif slot.state == "running" and slot.killed_at is not None:
                times.append(slot.killed_at + KILL_GRACE)
            elif slot.state == "running" and slot.kill_at is not None:
                times.append(slot.kill_at)
            elif slot.state == "idle" and slot.restart_at is not None and self.phase == "running":
                times.append(slot.restart_at)
        return min(times) if times else None

    # ----- starting -------------------------------------------------------------------------

    def _advance(self) -> None:
        """One-shots one by one, in settings order; then every long-running process."""
        if self.phase == "oneshots":
            for slot in self.slots:
                if slot.config.oneshot and slot.state != "done":
                    if slot.state == "idle":
                        self._start(slot)
                    return
            self.phase = "running"
            for slot in self.slots:
                if not slot.config.oneshot and self.phase == "running":
                    self._start(slot)
            self._maybe_finish()

    def _start(self, slot: Slot) -> None:
        slot.restart_at = None
        slot.stopping = slot.reloading = False
        slot.kill_at = slot.killed_at = None
        try:
            slot.handle = self._spawn(slot.config)
        except OSError as exc:
            self._spawn_failed(slot, exc)
            return
        slot.runs += 1
        slot.state = "running"
        slot.started_at = self._clock()
        self._say(f"{slot.name} started (pid {slot.handle.pid})")

    def _spawn_failed(self, slot: Slot, exc: OSError) -> None:
        """The first start failing is a setup error; a restart failing (EAGAIN, EMFILE) may pass."""
        slot.handle = None
        if slot.runs == 0 or self.phase != "running":
            self._say(f"{slot.name} could not be started: {exc}; stopping everything")
            slot.state = "done"
            self._fail(127)
            self._begin_stop()
            return
        slot.streak += 1
        what = f"{slot.name} could not be started again: {exc}"
        if slot.streak > self.timing.start_retries:
            self._say(
                f"{what}; giving up after {slot.streak} failures in a row "
                f"({SETTING}['START_RETRIES'] = {self.timing.start_retries}); stopping everything"
            )
            slot.state = "done"
            self._fail(127)
            self._begin_stop()
            return
        delay = backoff(slot.streak, self.timing)
        self._say(f"{what}; retrying in {delay:g}s")
        slot.state = "idle"
        slot.restart_at = self._clock() + delay

    # ----- a child exited -------------------------------------------------------------------

    def _exited(self, pid: int, returncode: int) -> None:
        running = (s for s in self.slots if s.state == "running" and s.handle)
        slot = next((s for s in running if s.handle and s.handle.pid == pid), None)
        if slot is None:
            return
        now = self._clock()
        what = f"{slot.name} {describe_exit(returncode)}"
        slot.state = "draining"
        slot.then_restart = False
        slot.kill_at = self._deadline if self.phase == "stopping" else now + self.timing.shutdown_timeout
        if slot.killed_at is not None:
            slot.kill_at = slot.killed_at
        if self.phase == "stopping":
            if not (slot.stopping and stopped_cleanly(returncode, slot.config.stop_signal)):
                self._fail(returncode)
            self._say(what)
        elif slot.config.oneshot:
            if returncode == 0:
                self._say(what)
            else:
                self._say(f"{what}; not starting the other processes")
                self._fail(returncode)
                self._begin_stop()
        elif slot.reloading:
            self._say(f"{what}; starting it again (SIGHUP)")
            slot.then_restart = True
            slot.streak = 0
            slot.restart_at = now
        else:
            self._unexpected_exit(slot, what, returncode, now - slot.started_at)
        self._check_drained(slot, now)

    def _unexpected_exit(self, slot: Slot, what: str, returncode: int, uptime: float) -> None:
        decision = after_exit(slot.config, returncode, uptime, slot.streak, self.timing)
        slot.streak = decision.streak
        if decision.action == "restart":
            self._say(f"{what}; restarting it in {decision.delay:g}s")
            slot.then_restart = True
            slot.restart_at = self._clock() + decision.delay
        elif decision.action == "done":
            self._say(f"{what}; not restarted (RESTART='on-failure' restarts only after a failure)")
        elif decision.action == "stop-all":
            self._say(f"{what}; it has RESTART='never', so everything stops")
            if returncode != 0:
                self._fail(returncode)
            self._begin_stop()
        else:
            self._say(
                f"{what} within {self.timing.start_seconds:g}s of starting, "
                f"{decision.streak} times in a row: "
                f"giving up (PRODSERVER_SUPERVISOR['START_RETRIES'] = {self.timing.start_retries}); "
                "fix the error above; stopping everything"
            )
            self._fail(returncode)
            self._begin_stop()

    def _check_drained(self, slot: Slot, now: float) -> None:
        """A dead child's group may still hold workers (and their port): stop them first."""
        handle = slot.handle
        if handle is None:
            return
        if handle.group_alive():
            if slot.killed_at is None:
                if slot.kill_at is not None and now >= slot.kill_at:
                    self._kill(slot, "left processes in its group that did not stop in time")
                elif not slot.group_told:
                    self._say(
                        f"{slot.name} left processes running in its group (pgid {handle.pid}); "
                        f"sending them {signame(slot.config.stop_signal)}"
                    )
                    handle.signal_group(slot.config.stop_signal)
                    slot.group_told = True
                return
            if now < slot.killed_at + KILL_GRACE:
                return
            self._say(f"{slot.name}: process group {handle.pid} survived SIGKILL; leaving it")
        self._drained(slot, now)

    def _abandon(self, slot: Slot, now: float) -> None:
        """SIGKILLed and still not gone: stop waiting, so a stuck child cannot hang the supervisor."""
        pid = slot.handle.pid if slot.handle else 0
        self._say(
            f"{slot.name} (pid {pid}) did not exit {KILL_GRACE:g}s after SIGKILL "
            "(stuck in the kernel?); no longer waiting for it"
        )
        if self.phase == "stopping":
            self._fail(-signal.SIGKILL)
        slot.state = "draining"
        slot.then_restart = slot.reloading
        slot.restart_at = now if slot.reloading else None
        self._drained(slot, now)

    def _drained(self, slot: Slot, now: float) -> None:
        slot.handle = None
        slot.group_told = False
        if slot.then_restart and self.phase == "running":
            slot.state = "idle"
        else:
            slot.state = "done"
            slot.restart_at = None
            if self.phase == "oneshots":
                self._advance()
        self._maybe_finish()
        if slot.state == "idle" and slot.restart_at is not None and now >= slot.restart_at:
            self._start(slot)

    def _kill(self, slot: Slot, why: str) -> None:
        if slot.handle is None:
            return
        self._say(f"{slot.name} (pid {slot.handle.pid}) {why}: SIGKILL")
        slot.handle.signal_group(signal.SIGKILL)
        slot.killed_at = self._clock()

    # ----- stopping -------------------------------------------------------------------------

    def _fail(self, returncode: int) -> None:
        if self._failure is None and returncode != 0:
            self._failure = exit_code(returncode)

    def _begin_stop(self) -> None:
        if self.phase in ("stopping", "finished"):
            return
        self.phase = "stopping"
        now = self._clock()
        self._deadline = now + self.timing.shutdown_timeout
        for slot in self.slots:
            if slot.state == "idle":
                slot.state = "done"
                slot.restart_at = None
            elif slot.state == "running" and slot.handle:
                slot.reloading = False
                if not slot.stopping:
                    # A child stopping for SIGHUP already has its signal: one stop signal each.
                    self._send_stop(slot)
            elif slot.state == "draining":
                slot.then_restart = False
                if slot.killed_at is None:
                    slot.kill_at = min(slot.kill_at or self._deadline, self._deadline)
        self._maybe_finish()

    def _send_stop(self, slot: Slot) -> None:
        if slot.handle is None:
            return
        slot.stopping = True
        slot.handle.send(slot.config.stop_signal)
        self._say(f"sending {signame(slot.config.stop_signal)} to {slot.name} (pid {slot.handle.pid})")

    def _stop_signal(self, signum: int) -> None:
        if self.phase == "finished":
            return
        name = signame(signum)
        if self._stop_received:
            self._say(f"{name} received again: killing every process now")
            if self._failure is None:
                self._failure = 128 + signum
            for slot in self.slots:
                if slot.state in ("running", "draining") and slot.handle and slot.killed_at is None:
                    slot.handle.signal_group(signal.SIGKILL)
                    slot.killed_at = self._clock()
            return
        self._stop_received = True
        if self.phase == "stopping":
            # We began this stop ourselves (crash loop, RESTART='never', a failed one-shot):
            # this is the first signal from outside, not a second one.
            self._say(
                f"{name} received: already stopping (SIGKILL at the deadline; {name} again to kill now)"
            )
            return
        self._say(
            f"{name} received: stopping every process "
            f"(SIGKILL after {self.timing.shutdown_timeout:g}s; {name} again to kill now)"
        )
        self._begin_stop()

    def _reload(self) -> None:
        if self.phase != "running":
            self._say("SIGHUP ignored: the processes are still starting or already stopping")
            return
        self._say("SIGHUP received: restarting every process")
        now = self._clock()
        for slot in self.slots:
            if slot.state == "running" and not slot.reloading:
                slot.reloading = True
                slot.kill_at = now + self.timing.shutdown_timeout
                self._send_stop(slot)
            elif slot.restart_at is not None and slot.state in ("idle", "draining"):
                # A restart waiting out its backoff happens now, as after a fresh start.
                slot.streak = 0
                slot.restart_at = now

    def _maybe_finish(self) -> None:
        if self.phase == "stopping":
            if all(slot.state in ("idle", "done") for slot in self.slots):
                self.phase = "finished"
        elif self.phase == "running" and all(slot.state == "done" for slot in self.slots):
            self._say("every process has finished")
            self.phase = "finished"

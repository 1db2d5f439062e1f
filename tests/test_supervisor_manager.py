"""The supervisor's decisions on replayed event histories, with a fake clock.

Each test writes a history (at time t, this child exits / this signal arrives) and checks
what the manager did: what it printed, which signals went to which child or group, when it
restarted what, and the final exit code. Timers run exactly as the real loop runs them: the
clock jumps to :meth:`Manager.next_wakeup` and :meth:`Manager.tick` is called.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field

import pytest

from django_prodserver.conf import ProcessConfig, SupervisorConfig, parse_process
from django_prodserver.supervisor.manager import Exited, Manager, Signalled
from django_prodserver.supervisor.policy import after_exit, exit_code

TERM, INT, KILL, HUP = signal.SIGTERM, signal.SIGINT, signal.SIGKILL, signal.SIGHUP


@dataclass
class FakeChild:
    name: str
    pid: int
    #: Signals sent to the child itself, then to its group, as (time, signal).
    sent: list[tuple[float, int]] = field(default_factory=list)
    group_sent: list[tuple[float, int]] = field(default_factory=list)
    #: Whether processes other than the (dead) leader remain in the group.
    leftovers: bool = False
    #: Leftovers that even SIGKILL does not remove (stuck in uninterruptible sleep).
    unkillable: bool = False
    clock: FakeClock | None = None

    def send(self, sig: int) -> None:
        self.sent.append((self.clock.now if self.clock else 0, sig))

    def signal_group(self, sig: int) -> None:
        self.group_sent.append((self.clock.now if self.clock else 0, sig))
        if sig == KILL and not self.unkillable:
            self.leftovers = False

    def group_alive(self) -> bool:
        return self.leftovers


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class World:
    """A manager wired to a fake clock and fake children; ``lines`` is what it printed."""

    def __init__(self, processes: dict[str, dict[str, object]], **timing: float) -> None:
        self.clock = FakeClock()
        self.lines: list[str] = []
        self.children: list[FakeChild] = []
        self.fail_spawn = False
        self.timing = SupervisorConfig(**timing)  # type: ignore[arg-type]
        configs = [parse_process(name, {"BACKEND": "x.Y", **entry}) for name, entry in processes.items()]
        self.manager = Manager(configs, self.timing, spawn=self.spawn, clock=self.clock, say=self.say)

    def spawn(self, config: ProcessConfig) -> FakeChild:
        if self.fail_spawn:
            raise OSError(24, "Too many open files")
        child = FakeChild(config.name, 100 + len(self.children), clock=self.clock)
        self.children.append(child)
        return child

    def say(self, text: str) -> None:
        self.lines.append(f"{self.clock.now:g} {text}")

    def current(self, name: str) -> FakeChild:
        return [c for c in self.children if c.name == name][-1]

    def pids(self, name: str) -> list[int]:
        return [c.pid for c in self.children if c.name == name]

    def run_timers(self, until: float) -> None:
        """What the loop does while nothing happens: sleep until the next timer, tick."""
        while not self.manager.finished:
            wake = self.manager.next_wakeup()
            if wake is None or wake > until:
                break
            self.clock.now = max(self.clock.now, wake)
            self.manager.tick()
        self.clock.now = max(self.clock.now, until)

    def at(self, t: float, event: str, name: str = "", code: int = 0) -> None:
        self.run_timers(t)
        if event == "exit":
            self.manager.handle(Exited(self.current(name).pid, code))
        else:
            self.manager.handle(Signalled(int(event)))
        self.manager.tick()

    def start(self) -> World:
        self.manager.start()
        return self

    def settle(self, limit: float = 10_000) -> None:
        self.run_timers(limit)


WEB_WORKER: dict[str, dict[str, object]] = {"web": {}, "worker": {}}


def test_starts_each_process_and_then_sleeps_without_a_timer() -> None:
    world = World(WEB_WORKER).start()
    assert world.lines == ["0 web started (pid 100)", "0 worker started (pid 101)"]
    # Nothing to do until an event: the loop blocks without a timeout (no idle CPU).
    assert world.manager.next_wakeup() is None


def test_a_failed_child_is_restarted_with_exponential_backoff_then_given_up() -> None:
    world = World(WEB_WORKER, start_seconds=10, start_retries=3, restart_delay=1).start()
    world.at(1, "exit", "web", 1)
    world.at(2.5, "exit", "web", 1)
    world.at(5, "exit", "web", 1)
    world.at(10, "exit", "web", 1)
    world.at(10.5, "exit", "worker", 0)
    world.settle()
    assert world.lines == [
        "0 web started (pid 100)",
        "0 worker started (pid 101)",
        "1 web exited with code 1; restarting it in 1s",
        "2 web started (pid 102)",
        "2.5 web exited with code 1; restarting it in 2s",
        "4.5 web started (pid 103)",
        "5 web exited with code 1; restarting it in 4s",
        "9 web started (pid 104)",
        "10 web exited with code 1 within 10s of starting, 4 times in a row: giving up "
        "(PRODSERVER_SUPERVISOR['START_RETRIES'] = 3); fix the error above; stopping everything",
        "10 sending SIGTERM to worker (pid 101)",
        "10.5 worker exited with code 0",
    ]
    assert world.manager.finished
    assert world.manager.returncode == 1


def test_a_child_that_had_started_fine_restarts_after_the_first_delay_again() -> None:
    world = World(WEB_WORKER, start_seconds=10, start_retries=1, restart_delay=1).start()
    world.at(1, "exit", "web", 1)  # early: streak 1, restart in 1s
    world.at(30, "exit", "web", 1)  # ran 28s: the streak starts over, restart in 1s
    world.at(31.5, "exit", "web", 1)  # early again: streak 2 > START_RETRIES=1 -> give up
    world.settle()
    assert world.lines[2:7] == [
        "1 web exited with code 1; restarting it in 1s",
        "2 web started (pid 102)",
        "30 web exited with code 1; restarting it in 1s",
        "31 web started (pid 103)",
        "31.5 web exited with code 1 within 10s of starting, 2 times in a row: giving up "
        "(PRODSERVER_SUPERVISOR['START_RETRIES'] = 1); fix the error above; stopping everything",
    ]


def test_backoff_is_capped() -> None:
    world = World(
        {"web": {}}, start_seconds=100, start_retries=10, restart_delay=1, restart_delay_max=5
    ).start()
    for _ in range(5):
        world.at(world.clock.now + 6, "exit", "web", 2)  # after the restart, still "while starting"
    delays = [line.rsplit(" in ", 1)[1] for line in world.lines if "restarting" in line]
    assert delays == ["1s", "2s", "4s", "5s", "5s"]


@pytest.mark.parametrize(
    ("uptime", "streak", "expected"), [(0.5, 0, (1, 1.0)), (0.5, 2, (3, 4.0)), (50, 2, (1, 1.0))]
)
def test_policy_backoff_and_streak(uptime: float, streak: int, expected: tuple[int, float]) -> None:
    decision = after_exit(parse_process("web", {"BACKEND": "x.Y"}), 1, uptime, streak, SupervisorConfig())
    assert (decision.action, decision.streak, decision.delay) == ("restart", *expected)


def test_zero_retries_stops_at_the_first_failure_while_starting() -> None:
    world = World(WEB_WORKER, start_retries=0).start()
    world.at(3, "exit", "web", 4)
    assert "giving up" in world.lines[2]
    assert world.current("worker").sent == [(3, TERM)]


def test_a_clean_exit_is_not_restarted_and_the_others_keep_running() -> None:
    world = World(WEB_WORKER).start()
    world.at(5, "exit", "worker", 0)
    world.settle(20)
    assert (
        world.lines[2]
        == "5 worker exited with code 0; not restarted (RESTART='on-failure' restarts only after a failure)"
    )
    assert not world.manager.finished
    assert world.current("web").sent == []
    world.at(50, "exit", "web", 0)
    assert world.lines[-1] == "50 every process has finished"
    assert world.manager.finished
    assert world.manager.returncode == 0


@pytest.mark.parametrize(("code", "expected"), [(0, 0), (3, 3), (-9, 137)])
def test_restart_never_stops_everything_with_that_childs_code(code: int, expected: int) -> None:
    world = World({"web": {"RESTART": "never"}, "worker": {}}).start()
    world.at(7, "exit", "web", code)
    world.at(8, "exit", "worker", 0)
    assert world.lines[2].endswith("; it has RESTART='never', so everything stops")
    assert world.current("worker").sent == [(7, TERM)]
    assert len(world.pids("web")) == 1
    assert world.manager.finished
    assert world.manager.returncode == expected


def test_sigterm_stops_every_child_with_its_own_signal_against_one_deadline() -> None:
    world = World({"web": {}, "worker": {"STOP_SIGNAL": "SIGINT"}, "beat": {}}, shutdown_timeout=25).start()
    world.at(100, str(TERM))
    world.at(101, "exit", "beat", -TERM)  # died of the signal we sent it: a clean stop
    world.at(110, "exit", "worker", 0)
    world.settle(124.9)
    assert world.current("web").group_sent == []
    world.settle(125)
    world.at(125.1, "exit", "web", -KILL)
    assert world.lines[3:] == [
        "100 SIGTERM received: stopping every process (SIGKILL after 25s; SIGTERM again to kill now)",
        "100 sending SIGTERM to web (pid 100)",
        "100 sending SIGINT to worker (pid 101)",
        "100 sending SIGTERM to beat (pid 102)",
        "101 beat was killed by SIGTERM",
        "110 worker exited with code 0",
        "125 web (pid 100) still running 25s after the stop signal: SIGKILL",
        "125.1 web was killed by SIGKILL",
    ]
    assert world.current("worker").sent == [(100, INT)]
    assert world.current("web").group_sent == [(125, KILL)]
    assert world.manager.finished
    assert world.manager.returncode == 128 + 9


def test_a_clean_shutdown_exits_zero() -> None:
    world = World(WEB_WORKER).start()
    world.at(3, str(INT))
    world.at(4, "exit", "web", 0)
    world.at(4, "exit", "worker", 128 + TERM)
    assert world.manager.finished
    assert world.manager.returncode == 0


def test_the_deadline_is_shared_by_leftovers_found_during_the_shutdown() -> None:
    world = World(WEB_WORKER, shutdown_timeout=25).start()
    world.at(0, str(TERM))
    world.current("web").leftovers = True
    world.at(20, "exit", "web", 0)
    world.at(21, "exit", "worker", 0)
    world.settle(24.9)
    assert world.current("web").group_sent == [(20, TERM)]
    assert not world.manager.finished
    world.settle(30)
    # Killed at the one deadline (25s), not 25s after the master exited.
    assert world.current("web").group_sent == [(20, TERM), (25, KILL)]
    assert world.manager.finished
    assert world.manager.returncode == 0


def test_a_second_ctrl_c_kills_everything_at_once() -> None:
    world = World(WEB_WORKER).start()
    world.at(1, str(INT))
    world.at(2, str(INT))
    assert world.lines[-1] == "2 SIGINT received again: killing every process now"
    assert world.current("web").group_sent == [(2, KILL)]
    assert world.current("worker").group_sent == [(2, KILL)]
    world.at(2.01, "exit", "web", -KILL)
    world.at(2.01, "exit", "worker", -KILL)
    assert world.manager.finished
    assert world.manager.returncode == 130


def test_leftovers_of_a_dead_child_are_stopped_before_it_restarts() -> None:
    """A master killed by the OOM killer leaves its workers holding the port."""
    world = World(WEB_WORKER, restart_delay=1, shutdown_timeout=25).start()
    web = world.current("web")
    web.leftovers = True
    world.at(60, "exit", "web", -KILL)
    assert world.lines[2:] == [
        "60 web was killed by SIGKILL; restarting it in 1s",
        "60 web left processes running in its group (pgid 100); sending them SIGTERM",
    ]
    world.settle(70)
    assert len(world.pids("web")) == 1, "restarted while the old workers still run"
    web.leftovers = False
    world.settle(70.2)
    assert world.lines[-1].endswith("web started (pid 102)")
    assert 70 < float(world.lines[-1].split()[0]) <= 70.1


def test_leftovers_that_ignore_the_stop_signal_get_sigkill_then_it_restarts() -> None:
    world = World(WEB_WORKER, restart_delay=1, shutdown_timeout=25).start()
    world.current("web").leftovers = True
    world.at(60, "exit", "web", 1)
    world.settle(100)
    assert world.current("web").pid == 102
    assert world.children[0].group_sent == [(60, TERM), (85, KILL)]
    assert world.lines[-2:] == [
        "85 web (pid 100) left processes in its group that did not stop in time: SIGKILL",
        "85.05 web started (pid 102)",  # the next look at the group finds it gone
    ]


def test_sighup_restarts_every_child_as_soon_as_it_has_stopped() -> None:
    world = World(WEB_WORKER, shutdown_timeout=25).start()
    world.at(10, str(HUP))
    world.at(11, "exit", "worker", 0)
    assert world.pids("worker") == [101, 102]
    world.settle(35.005)
    assert world.children[0].group_sent == [(35, KILL)]
    world.at(35.01, "exit", "web", -KILL)
    assert world.lines[2:] == [
        "10 SIGHUP received: restarting every process",
        "10 sending SIGTERM to web (pid 100)",
        "10 sending SIGTERM to worker (pid 101)",
        "11 worker exited with code 0; starting it again (SIGHUP)",
        "11 worker started (pid 102)",
        "35 web (pid 100) did not stop within 25s of SIGHUP: SIGKILL",
        "35.01 web was killed by SIGKILL; starting it again (SIGHUP)",
        "35.01 web started (pid 103)",
    ]
    assert not world.manager.finished


def test_sighup_cuts_a_pending_backoff_short() -> None:
    world = World(WEB_WORKER, start_seconds=10, restart_delay=8).start()
    world.at(1, "exit", "web", 1)
    world.at(2, str(HUP))
    assert world.pids("web") == [100, 102]
    assert world.lines[-1] == "2 web started (pid 102)"


def test_oneshots_run_in_order_before_the_others() -> None:
    world = World({"web": {}, "release": {"ONESHOT": True}, "collect": {"ONESHOT": True}}).start()
    assert world.lines == ["0 release started (pid 100)"]
    world.at(3, "exit", "release", 0)
    world.at(4, "exit", "collect", 0)
    assert world.lines == [
        "0 release started (pid 100)",
        "3 release exited with code 0",
        "3 collect started (pid 101)",
        "4 collect exited with code 0",
        "4 web started (pid 102)",
    ]
    world.at(9, str(TERM))
    world.at(9.5, "exit", "web", 0)
    assert world.manager.returncode == 0


def test_a_failing_oneshot_stops_the_start_with_its_code() -> None:
    world = World({"release": {"ONESHOT": True}, "web": {}}).start()
    world.at(2, "exit", "release", 3)
    world.settle()
    assert world.lines == [
        "0 release started (pid 100)",
        "2 release exited with code 3; not starting the other processes",
    ]
    assert world.manager.finished
    assert world.manager.returncode == 3


def test_sigterm_during_a_oneshot_starts_nothing_else() -> None:
    world = World({"release": {"ONESHOT": True}, "web": {}}).start()
    world.at(1, str(TERM))
    world.at(1.5, "exit", "release", -TERM)
    assert world.manager.finished
    assert world.pids("web") == []
    assert world.manager.returncode == 0


def test_only_oneshots_finish_with_zero() -> None:
    world = World({"release": {"ONESHOT": True}}).start()
    world.at(1, "exit", "release", 0)
    assert world.lines[-1] == "1 every process has finished"
    assert world.manager.returncode == 0


def test_sigterm_cancels_a_pending_restart() -> None:
    world = World({"web": {}}, restart_delay=30).start()
    world.at(1, "exit", "web", 1)
    world.at(2, str(TERM))
    assert world.manager.finished
    assert world.pids("web") == [100]
    assert world.manager.returncode == 0


def test_a_child_that_cannot_be_started_stops_everything() -> None:
    world = World(WEB_WORKER)
    world.fail_spawn = True
    world.start()
    assert world.lines == ["0 web could not be started: [Errno 24] Too many open files; stopping everything"]
    assert world.manager.finished
    assert world.manager.returncode == 127


def test_unknown_pids_and_other_signals_change_nothing() -> None:
    world = World(WEB_WORKER).start()
    world.manager.handle(Exited(4242, 1))
    world.manager.handle(Signalled(signal.SIGUSR1))
    assert world.lines == ["0 web started (pid 100)", "0 worker started (pid 101)"]
    assert world.manager.next_wakeup() is None


def test_exit_codes_follow_the_shell_convention() -> None:
    assert [exit_code(c) for c in (0, 1, 255, -2, -9, -15)] == [0, 1, 255, 130, 137, 143]


def test_a_group_that_survives_sigkill_is_left_after_a_grace_period() -> None:
    world = World(WEB_WORKER, restart_delay=1, shutdown_timeout=10).start()
    web = world.current("web")
    web.leftovers = web.unkillable = True
    world.at(5, "exit", "web", 1)
    world.settle(30)
    assert world.lines[-2:] == [
        "20 web: process group 100 survived SIGKILL; leaving it",
        "20 web started (pid 102)",
    ]


def test_sighup_while_oneshots_run_is_ignored() -> None:
    world = World({"release": {"ONESHOT": True}, "web": {}}).start()
    world.at(1, str(HUP))
    assert world.lines[-1] == "1 SIGHUP ignored: the processes are still starting or already stopping"
    assert world.current("release").sent == []


def test_sigterm_while_leftovers_drain_cancels_the_restart_and_keeps_one_deadline() -> None:
    world = World(WEB_WORKER, restart_delay=1, shutdown_timeout=25).start()
    world.current("web").leftovers = True
    world.at(10, "exit", "web", 1)  # draining until 35 at the latest
    world.at(20, str(TERM))  # the shared deadline is 45; the earlier drain deadline stays
    world.at(21, "exit", "worker", 0)
    world.settle(100)
    assert world.children[0].group_sent == [(10, TERM), (35, KILL)]
    assert world.pids("web") == [100]
    assert world.manager.finished
    # The failure was being handled (a restart); the stop itself was clean.
    assert world.manager.returncode == 0


# ----- issue 12: one stop signal per child, escalation only on a second external signal ----------

QUIT = signal.SIGQUIT


@pytest.mark.parametrize(
    ("history", "why"),
    [
        ([(1, "exit", "web", 1)], "crash loop"),  # START_RETRIES=0: gives up at once
        ([(1, "exit", "release", 0)], "RESTART='never'"),
    ],
)
def test_the_first_external_sigterm_after_a_self_initiated_stop_does_not_kill(
    history: list[tuple[float, str, str, int]], why: str
) -> None:
    world = World({"web": {}, "release": {"RESTART": "never"}, "worker": {}}, start_retries=0).start()
    for t, event, name, code in history:
        world.at(t, event, name, code)
    assert world.manager.phase == "stopping", why
    world.at(2, str(TERM))
    assert (
        world.lines[-1]
        == "2 SIGTERM received: already stopping (SIGKILL at the deadline; SIGTERM again to kill now)"
    )
    assert world.current("worker").group_sent == []
    assert world.current("worker").sent == [(1, TERM)]
    world.at(3, str(TERM))
    assert world.lines[-1] == "3 SIGTERM received again: killing every process now"
    assert world.current("worker").group_sent == [(3, KILL)]


def test_the_first_external_sigterm_after_a_failed_oneshot_does_not_kill() -> None:
    world = World({"release": {"ONESHOT": True}, "web": {}}).start()
    world.current("release").leftovers = True
    world.at(1, "exit", "release", 2)
    world.at(2, str(TERM))
    assert world.current("release").group_sent == [(1, TERM)]
    assert world.manager.returncode == 2


def test_sigterm_after_sighup_does_not_signal_children_already_stopping() -> None:
    world = World(WEB_WORKER, shutdown_timeout=25).start()
    world.at(10, str(HUP))
    world.at(12, str(TERM))
    assert world.current("web").sent == [(10, TERM)]
    assert world.current("worker").sent == [(10, TERM)]
    world.at(13, "exit", "web", 0)
    world.at(13, "exit", "worker", 0)
    assert world.pids("web") == [100]
    assert world.manager.finished
    assert world.manager.returncode == 0


def test_sigquit_stops_like_sigterm() -> None:
    world = World(WEB_WORKER).start()
    world.at(1, str(QUIT))
    assert (
        world.lines[2]
        == "1 SIGQUIT received: stopping every process (SIGKILL after 25s; SIGQUIT again to kill now)"
    )
    assert world.current("web").sent == [(1, TERM)]
    world.at(2, str(QUIT))
    assert world.current("web").group_sent == [(2, KILL)]


def test_a_child_that_never_exits_after_sigkill_is_given_up() -> None:
    """A process in uninterruptible sleep (D state) ignores even SIGKILL: the supervisor must end."""
    world = World(WEB_WORKER, shutdown_timeout=10).start()
    world.at(0, str(TERM))
    world.at(1, "exit", "worker", 0)
    world.settle(100)
    assert world.lines[-2:] == [
        "10 web (pid 100) still running 10s after the stop signal: SIGKILL",
        "15 web (pid 100) did not exit 5s after SIGKILL (stuck in the kernel?); no longer waiting for it",
    ]
    assert world.manager.finished
    assert world.manager.returncode == 137


def test_a_child_that_never_exits_after_a_second_signal_is_given_up() -> None:
    world = World(WEB_WORKER).start()
    world.at(0, str(INT))
    world.at(1, str(INT))
    world.settle(100)
    assert world.manager.finished
    assert world.lines[-1].startswith("6 worker (pid 101) did not exit 5s after SIGKILL")


def test_a_spawn_failure_on_restart_backs_off_like_a_crash() -> None:
    world = World(WEB_WORKER, start_seconds=10, start_retries=2, restart_delay=1).start()
    world.fail_spawn = True
    world.at(1, "exit", "web", 1)
    world.settle(5)
    assert world.lines[2:] == [
        "1 web exited with code 1; restarting it in 1s",
        "2 web could not be started again: [Errno 24] Too many open files; retrying in 2s",
        "4 web could not be started again: [Errno 24] Too many open files; giving up "
        "after 3 failures in a row (PRODSERVER_SUPERVISOR['START_RETRIES'] = 2); stopping everything",
        "4 sending SIGTERM to worker (pid 101)",
    ]
    world.at(5, "exit", "worker", 0)
    assert world.manager.finished
    assert world.manager.returncode == 127


def test_a_spawn_failure_on_restart_recovers_when_the_resource_is_back() -> None:
    world = World(WEB_WORKER, restart_delay=1).start()
    world.fail_spawn = True
    world.at(1, "exit", "web", 1)
    world.settle(2)
    world.fail_spawn = False
    world.settle(10)
    assert world.lines[-1] == "4 web started (pid 102)"
    assert not world.manager.finished


def test_backoff_never_overflows_with_many_retries() -> None:
    timing = SupervisorConfig(start_retries=100_000, restart_delay=0.5, restart_delay_max=30)
    decision = after_exit(parse_process("web", {"BACKEND": "x.Y"}), 1, 0.1, 5000, timing)
    assert (decision.action, decision.delay) == ("restart", 30)

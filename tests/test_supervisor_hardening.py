"""The supervisor under real platforms' conditions (issue 12), with real processes and signals.

A stdout nobody reads, a platform that signals every process of the group, SIGQUIT: each test
here hung the supervisor, killed a child's work or left children unsupervised before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness import MANAGE, TESTS_DIR, child_env, prodserver
from test_supervisor import assert_no_orphans, chatty, running, started

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux pipes and /proc")

F_GETPIPE_SZ = 1032


def poll(what: str, condition: Callable[[], object], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.05)


def _unread(fd: int) -> int:
    return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"), sys.byteorder)


def start_into_pipe(
    names: list[str], processes: dict[str, Any], settings: dict[str, Any]
) -> tuple[subprocess.Popen[bytes], int]:
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, str(MANAGE), "prodserver", *names],
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=write_end,
        env=child_env(processes, settings),
        cwd=str(TESTS_DIR),
        start_new_session=True,
    )
    os.close(write_end)
    return proc, read_end


def test_a_stalled_stdout_never_stops_supervision() -> None:
    """Docker's blocking log mode behind a stuck driver, or ``| less`` paused: SIGTERM still works."""
    processes = {"spam": chatty("--spam"), "idle": chatty()}
    proc, read_end = start_into_pipe(["spam", "idle"], processes, {})
    try:
        seen = b""

        def both_ready() -> bool:
            nonlocal seen
            seen += os.read(read_end, 65536)
            return b"spam   | ready" in seen and b"idle   | ready" in seen

        poll("both children ready", both_ready)
        # From here on nobody reads: the pipe fills up and stays full.
        capacity = fcntl.fcntl(read_end, F_GETPIPE_SZ)
        # Half full is enough: the spam child writes far more than the rest, so the pipe is
        # full by the time SIGTERM is handled. (The last pages of a pipe fill unevenly, so
        # waiting for every byte of it made this wait flaky under load.)
        poll("the pipe filling up", lambda: _unread(read_end) >= capacity // 2)
        children = [int(pid) for pid in re.findall(rb"started \(pid (\d+)\)", seen)]
        assert len(children) == 2, seen
        os.kill(proc.pid, signal.SIGTERM)
        # Before, the supervisor stayed blocked in write() for as long as nobody read.
        assert proc.wait(60) == 0
        poll("children gone", lambda: not any(running(pid) for pid in children), 10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        os.close(read_end)


def test_sigquit_stops_every_child_instead_of_leaving_them_unsupervised() -> None:
    processes = {"one": chatty(), "two": chatty(STOP_SIGNAL="SIGINT")}
    with prodserver("one", "two", processes=processes) as sup:
        sup.wait_for_line("one    | ready")
        sup.wait_for_line("two    | ready")
        children = started(sup, "one") + started(sup, "two")
        sup.send(signal.SIGQUIT)
        assert sup.wait(15) == 0, sup.output
        assert (
            "system | SIGQUIT received: stopping every process (SIGKILL after 25s; SIGQUIT again to kill now)"
            in sup.lines
        )
        assert "one    | one stopping on SIGTERM" in sup.lines
        assert_no_orphans(sup, children)


def _pending(pid: int, signum: int) -> bool:
    """Whether ``signum`` is still waiting to be delivered to ``pid`` (Linux /proc)."""
    text = Path(f"/proc/{pid}/status").read_text()
    status = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
    pending = int(status["SigPnd"], 16) | int(status["ShdPnd"], 16)
    return bool(pending & (1 << (signum - 1)))


def test_a_group_signal_reaches_a_child_twice_and_counts_once(tmp_path: Path) -> None:
    """Heroku and systemd's KillMode=control-group signal the child too, then we forward ours.

    The child stops like django-tasks' db_worker: a second SIGTERM aborts the running task.
    """
    done = tmp_path / "task-done"
    processes = {"tasks": chatty(f"--drain={done}"), "idle": chatty()}
    with prodserver("tasks", "idle", processes=processes) as sup:
        sup.wait_for_line("tasks  | ready")
        sup.wait_for_line("idle   | ready")
        [tasks] = started(sup, "tasks")
        children = [tasks, *started(sup, "idle")]
        os.kill(tasks, signal.SIGTERM)  # the platform, to every process
        sup.wait_for_line("tasks  | tasks draining after SIGTERM")
        sup.send(signal.SIGTERM)  # ... and to the supervisor, which forwards its own
        sup.wait_for_line(f"system | sending SIGTERM to tasks (pid {tasks})")
        poll("the forwarded SIGTERM delivered", lambda: not _pending(tasks, signal.SIGTERM))
        done.touch()
        assert sup.wait(20) == 0, sup.output
        assert "tasks  | prodserver: SIGTERM ignored: already stopping" in sup.lines
        assert "tasks  | tasks finished its task" in sup.lines
        assert not [line for line in sup.lines if "interrupted" in line], sup.output
        assert_no_orphans(sup, children)


def test_the_platforms_first_sigterm_after_our_own_stop_does_not_kill_a_task(tmp_path: Path) -> None:
    """A RESTART='never' process exits, so we stop the rest; then the platform stops us: no SIGKILL."""
    done = tmp_path / "task-done"
    processes = {
        "tasks": chatty(f"--drain={done}"),
        "quitter": chatty("--lines=0", RESTART="never"),
    }
    with prodserver("tasks", "quitter", processes=processes) as sup:
        sup.wait_for_line("tasks   | ready")
        sup.wait_for_line("quitter | ready")
        children = started(sup, "tasks") + started(sup, "quitter")
        os.kill(children[1], signal.SIGTERM)  # it exits 0, and RESTART='never' stops the rest
        sup.wait_for_line("tasks   | tasks draining after SIGTERM")
        sup.send(signal.SIGTERM)
        sup.wait_for_line("system  | SIGTERM received: already stopping")
        done.touch()
        assert sup.wait(20) == 0, sup.output
        assert "tasks   | tasks finished its task" in sup.lines
        assert not [line for line in sup.lines if line.endswith(("SIGKILL", "now"))], sup.output
        assert_no_orphans(sup, children)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing the user needs root")
def test_a_child_that_changed_its_user_still_stops_when_the_supervisor_is_killed() -> None:
    """The kernel clears the die-with-parent signal on a change of user (Celery's --uid)."""
    processes = {"dropped": chatty("--setuid=65534"), "other": chatty()}
    with prodserver("dropped", "other", processes=processes) as sup:
        sup.wait_for_line("dropped | ready")
        sup.wait_for_line("other   | ready")
        children = started(sup, "dropped") + started(sup, "other")
        assert Path(f"/proc/{children[0]}").stat().st_uid == 65534
        os.kill(sup.pid, signal.SIGKILL)
        assert sup.wait(10) == -signal.SIGKILL
        assert_no_orphans(sup, children)

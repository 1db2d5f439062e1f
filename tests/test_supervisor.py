"""``prodserver web worker`` for real: a real supervisor, real children, real ``os.kill``.

Every test ends by checking, PID by PID, that nothing it started is left running.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contract import accepts
from harness import (
    MANAGE,
    TESTS_DIR,
    Child,
    child_env,
    free_port,
    http_get,
    prodserver,
    run_manage,
    wait_until,
)
from in_process import command_error

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and signals")

CHATTY = "testproject.chatty.Chatty"
FAST = {"RESTART_DELAY": 0.1, "SHUTDOWN_TIMEOUT": 10}


def chatty(*args: str, **entry: Any) -> dict[str, Any]:
    return {"BACKEND": CHATTY, "ARGS": list(args), **entry}


def started(child: Child, name: str) -> list[int]:
    """PIDs the supervisor reported for ``name``, in order."""
    return [int(m) for m in re.findall(rf"system +\| {name} started \(pid (\d+)\)", child.output)]


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has exited; only its exit status is left)."""
    if not Path("/proc").is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] != "Z" and int(stat[2]) == pgid:
                members.append(int(entry.name))
    return members


def assert_no_orphans(child: Child, pids: Iterable[int], timeout: float = 10) -> None:
    """Each PID, and each process group a child led, is gone."""
    pids = set(pids)
    assert pids, "no PID to check"
    wait_until(
        f"processes {sorted(pids)} gone",
        lambda: not any(running(p) or group_members(p) for p in pids),
        child,
        timeout,
    )


def test_web_and_worker_prefixed_output_restart_after_sigkill_and_clean_stop() -> None:
    """The OOM-killer case: gunicorn's master dies, its worker keeps the port until we stop it."""
    port = free_port()
    processes = {
        "web": {
            "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
            "ARGS": {"bind": f"127.0.0.1:{port}", "workers": 1},
        },
        "worker": chatty("--lines=300"),
    }
    with prodserver("web", "worker", processes=processes, settings={"PRODSERVER_SUPERVISOR": FAST}) as sup:
        sup.wait_for_line("worker | ready pid=")
        assert sup.wait_http(f"http://127.0.0.1:{port}/").status == 200
        worker_lines = [line for line in sup.lines if line.startswith("worker | worker line")]
        assert worker_lines == [f"worker | worker line {n}" for n in range(1, 301)], sup.output

        [master] = started(sup, "web")
        # Printed by gunicorn's worker as it boots, relayed by the supervisor: it may still be
        # on its way when the first answer arrives.
        sup.wait_for_line("Booting worker with pid")
        gunicorn_workers = [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", sup.output)]
        assert gunicorn_workers, sup.output
        os.kill(master, signal.SIGKILL)
        sup.wait_for_line("system | web was killed by SIGKILL; restarting it in 0.1s")
        wait_until("web restarted", lambda: len(started(sup, "web")) == 2, sup)
        assert not any(running(p) for p in [master, *gunicorn_workers]), sup.output
        wait_until(
            "the new gunicorn worker boots",
            lambda: sup.output.count("Booting worker with pid") > len(gunicorn_workers),
            sup,
            timeout=30,
        )
        wait_until("the new web serves", lambda: _serves(port), sup)

        children = started(sup, "web") + started(sup, "worker")
        sup.send(signal.SIGTERM)
        assert sup.wait(15) == 0, sup.output
        assert "system | SIGTERM received: stopping every process" in sup.output
        assert "worker | worker stopping on SIGTERM" in sup.output
        assert_no_orphans(sup, [*children, *gunicorn_workers, sup.pid])


def _serves(port: int) -> bool:
    try:
        return http_get(f"http://127.0.0.1:{port}/", timeout=2).status == 200
    except OSError:
        return False


def test_sigterm_stops_everything_by_the_deadline() -> None:
    """The child that ignores SIGTERM is killed once the others have stopped.

    When the deadline falls (SHUTDOWN_TIMEOUT after the signal, shared by every child) is the
    manager's arithmetic, tested on replayed clocks in test_supervisor_manager.py; here real
    processes show the order of events.
    """
    processes = {"stubborn": chatty("--ignore=SIGTERM"), "polite": chatty()}
    settings = {"PRODSERVER_SUPERVISOR": {"SHUTDOWN_TIMEOUT": 2}}
    with prodserver("stubborn", "polite", processes=processes, settings=settings) as sup:
        sup.wait_for_line("stubborn | ready")
        sup.wait_for_line("polite   | ready")
        children = started(sup, "stubborn") + started(sup, "polite")
        sup.send(signal.SIGTERM)
        assert sup.wait(20) == 128 + signal.SIGKILL, sup.output
        [stubborn] = started(sup, "stubborn")
        killed = f"system   | stubborn (pid {stubborn}) still running 2s after the stop signal: SIGKILL"
        assert killed in sup.lines, sup.output
        assert "system   | polite exited with code 0" in sup.lines[: sup.lines.index(killed)], sup.output
        assert_no_orphans(sup, children)


def test_a_second_ctrl_c_kills_at_once() -> None:
    processes = {"stubborn": chatty("--ignore=SIGTERM"), "polite": chatty()}
    settings = {"PRODSERVER_SUPERVISOR": {"SHUTDOWN_TIMEOUT": 60}}
    with prodserver("stubborn", "polite", processes=processes, settings=settings) as sup:
        sup.wait_for_line("stubborn | ready")
        sup.wait_for_line("polite   | ready")
        children = started(sup, "stubborn") + started(sup, "polite")
        sup.send(signal.SIGINT)
        sup.wait_for_line("system   | polite exited with code 0")
        sup.send(signal.SIGINT)
        # Well before SHUTDOWN_TIMEOUT (60 s): the second signal does not wait for it.
        assert sup.wait(30) == 130, sup.output
        assert "system   | SIGINT received again: killing every process now" in sup.lines
        assert_no_orphans(sup, children)


def test_a_crash_loop_stops_with_the_reason_and_the_childs_code() -> None:
    processes = {"crashy": chatty("--lines=1", "--exit=3"), "polite": chatty()}
    settings = {"PRODSERVER_SUPERVISOR": {"START_RETRIES": 1, "RESTART_DELAY": 0.1}}
    with prodserver("crashy", "polite", processes=processes, settings=settings) as sup:
        code = sup.wait(30)
        assert code == 3, sup.output
        assert sup.lines.count("crashy | crashy line 1") == 2
        assert [line for line in sup.lines if line.startswith("system | crashy exited")] == [
            "system | crashy exited with code 3; restarting it in 0.1s",
            "system | crashy exited with code 3 within 10s of starting, 2 times in a row: giving up "
            "(PRODSERVER_SUPERVISOR['START_RETRIES'] = 1); fix the error above; stopping everything",
        ]
        assert_no_orphans(sup, started(sup, "crashy") + started(sup, "polite"))


def test_leftovers_of_a_killed_child_are_stopped_before_the_restart() -> None:
    processes = {"parent": chatty("--grandchild"), "other": chatty()}
    settings = {"PRODSERVER_SUPERVISOR": {"SHUTDOWN_TIMEOUT": 1, "RESTART_DELAY": 0.1}}
    with prodserver("parent", "other", processes=processes, settings=settings) as sup:
        sup.wait_for_line("parent | ready")
        grandchild = int(sup.wait_for_line("grandchild pid=").rsplit("=", 1)[1])
        [first] = started(sup, "parent")
        os.kill(first, signal.SIGKILL)
        # The grandchild ignores SIGTERM: SIGKILL after SHUTDOWN_TIMEOUT, then the restart.
        sup.wait_for_line(
            f"system | parent (pid {first}) left processes in its group that did not stop in time"
        )
        wait_until("parent restarted", lambda: len(started(sup, "parent")) == 2, sup)
        assert not running(grandchild)
        assert sup.lines.index(
            f"system | parent left processes running in its group (pgid {first}); sending them SIGTERM"
        ) < sup.lines.index(f"system | parent started (pid {started(sup, 'parent')[1]})")
        sup.wait_for_line("grandchild pid=")
        children = started(sup, "parent") + started(sup, "other")
        sup.send(signal.SIGTERM)
        # The new grandchild ignores SIGTERM too and is killed at the deadline with its group.
        assert sup.wait(15) == 0, sup.output
        assert_no_orphans(sup, [*children, grandchild])


def test_sighup_restarts_every_child() -> None:
    processes = {"one": chatty(), "two": chatty()}
    with prodserver("one", "two", processes=processes, settings={"PRODSERVER_SUPERVISOR": FAST}) as sup:
        sup.wait_for_line("one    | ready")
        sup.wait_for_line("two    | ready")
        sup.send(signal.SIGHUP)
        wait_until("both restarted", lambda: len(started(sup, "one")) == len(started(sup, "two")) == 2, sup)
        assert "system | SIGHUP received: restarting every process" in sup.lines
        old = [started(sup, "one")[0], started(sup, "two")[0]]
        assert not any(running(p) for p in old)
        children = started(sup, "one") + started(sup, "two")
        sup.send(signal.SIGTERM)
        assert sup.wait(15) == 0, sup.output
        assert_no_orphans(sup, children)


def test_restart_never_output_complete_and_undecodable_bytes_printed() -> None:
    processes = {
        "flood": chatty("--lines=0", "--flood=20000", "--raw", "--exit=0", RESTART="never"),
        "idle": chatty(),
    }
    with prodserver("flood", "idle", processes=processes) as sup:
        assert sup.wait(60) == 0, sup.output[-3000:]
        flood = [line for line in sup.lines if line.startswith("flood  | flood flood")]
        assert flood == [f"flood  | flood flood {n}" for n in range(20000)]
        assert "flood  | caf\ufffd latin-1" in sup.lines
        assert "flood  | no newline at the end" in sup.lines
        end = sup.lines.index("flood  | no newline at the end")
        # After all of flood's output; idle's lines may come between.
        stop = sup.lines.index(
            "system | flood exited with code 0; it has RESTART='never', so everything stops"
        )
        assert stop > end
        assert_no_orphans(sup, started(sup, "flood") + started(sup, "idle"))


def test_all_runs_the_release_oneshot_first(tmp_path: Path) -> None:
    processes = {
        "web": chatty(),
        "release": {
            "BACKEND": "django_prodserver.backends.command.ManagementCommand",
            "ARGS": ["migrate", "--noinput"],
            "ONESHOT": True,
        },
    }
    with prodserver("--all", processes=processes, db=str(tmp_path / "db.sqlite3")) as sup:
        sup.wait_for_line("web     | ready")
        lines = sup.lines
        assert lines.index("system  | release exited with code 0") < lines.index(
            f"system  | web started (pid {started(sup, 'web')[0]})"
        )
        assert "release |   Applying auth.0001_initial... OK" in lines
        sup.send(signal.SIGTERM)
        assert sup.wait(15) == 0, sup.output
        assert_no_orphans(sup, started(sup, "web") + started(sup, "release"))


def test_a_failing_oneshot_stops_the_start_with_its_code(tmp_path: Path) -> None:
    processes = {
        "release": {
            "BACKEND": "django_prodserver.backends.command.ManagementCommand",
            "ARGS": ["migrate", "nosuchapp"],
            "ONESHOT": True,
        },
        "web": chatty(),
    }
    with prodserver("release", "web", processes=processes, db=str(tmp_path / "db.sqlite3")) as sup:
        assert sup.wait(30) == 1, sup.output
        assert "release | CommandError: No installed app with label 'nosuchapp'." in sup.lines
        assert "system  | release exited with code 1; not starting the other processes" in sup.lines
        assert started(sup, "web") == []


@pytest.mark.parametrize("extra", [(), ("--no-color",)])
def test_colour_on_a_terminal_unless_no_color(extra: tuple[str, ...]) -> None:
    import pty

    env = child_env({"one": chatty(), "two": chatty()})
    env.pop("NO_COLOR", None)
    main, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(MANAGE), "prodserver", "one", "two", *extra],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        env=env,
        cwd=str(TESTS_DIR),
        start_new_session=True,
    )
    os.close(secondary)
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_pty, args=(main, chunks), daemon=True)
    reader.start()
    try:
        # Both children, or SIGTERM may reach one before it has printed (or set its handler).
        ready = [(f"{n}    | \x1b[0mready".encode(), f"{n}    | ready".encode()) for n in ("one", "two")]

        def both_ready() -> bool:
            assert proc.poll() is None, b"".join(chunks).decode(errors="replace")
            return all(any(mark in b"".join(chunks) for mark in marks) for marks in ready)

        wait_until(lambda: f"both ready\n{b''.join(chunks).decode(errors='replace')}", both_ready, timeout=30)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
        reader.join(5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        os.close(main)
    text = b"".join(chunks).decode(errors="replace")
    if extra:
        assert "\x1b[" not in text
        assert "one    | one line 1" in text
    else:
        assert "\x1b[36mone    | \x1b[0mone line 1" in text
        assert "\x1b[33mtwo    | \x1b[0mtwo line 1" in text


def _read_pty(fd: int, chunks: list[bytes]) -> None:
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        chunks.append(data)


def _supervise_errors(processes: dict[str, Any], *args: str, settings: dict[str, Any] | None = None) -> str:
    result = run_manage("prodserver", *args, processes=processes, settings=settings)
    assert result.returncode == 1, result
    return result.stderr.strip()


def test_program_options_need_a_single_process() -> None:
    assert _supervise_errors({"one": chatty(), "two": chatty()}, "one", "two", "--workers=8") == (
        "CommandError: Options for the program (--workers=8) apply to one process: run "
        "'prodserver NAME --workers=8', or put them in PRODUCTION_PROCESSES[NAME]['ARGS'] to run "
        "several processes together."
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"SHUTDOWN": 3},
            "PRODSERVER_SUPERVISOR has unknown key 'SHUTDOWN'; did you mean 'SHUTDOWN_TIMEOUT'?",
        ),
        (
            {"SHUTDOWN_TIMEOUT": "soon"},
            "PRODSERVER_SUPERVISOR['SHUTDOWN_TIMEOUT'] = 'soon' is not a number of seconds; "
            "use a number from 0 to 3600, e.g. 5.",
        ),
        (
            {"START_RETRIES": 1.5},
            "PRODSERVER_SUPERVISOR['START_RETRIES'] = 1.5 is not a count; use an integer from 0 to 1000, "
            "e.g. 3.",
        ),
        (
            [1],
            "The PRODSERVER_SUPERVISOR setting must be a dict, e.g. {'SHUTDOWN_TIMEOUT': 25}, not list.",
        ),
    ],
)
@pytest.mark.usefixtures("django_project")
def test_bad_supervisor_settings(value: Any, message: str) -> None:
    # In this process (read before any child starts); test_program_options_need_a_single_process
    # shows such an error's exit status and bare stderr.
    processes = {"one": chatty(), "two": chatty()}
    settings = {"PRODSERVER_SUPERVISOR": value}
    assert command_error("one", "two", processes=processes, settings=settings) == message


@pytest.mark.usefixtures("django_project")
def test_two_web_processes_on_one_port_are_refused_before_either_starts() -> None:
    port = free_port()
    processes = {
        "web": {"BACKEND": "gunicorn", "ARGS": {"bind": f"127.0.0.1:{port}"}},
        "api": {"BACKEND": "uvicorn", "ARGS": {"host": "0.0.0.0", "port": port}},
        "worker": chatty(),
    }
    assert command_error("--all", processes=processes) == (
        f"Processes 'web' and 'api' both listen on port {port} (127.0.0.1 and 0.0.0.0): run together, "
        "the second cannot start; give one of them another port (ARGS or the command line)."
    )
    assert not accepts("127.0.0.1", port)


@pytest.mark.usefixtures("django_project")
def test_a_port_clash_between_later_processes_is_found_too() -> None:
    port = free_port()
    processes = {
        "a": {"BACKEND": "gunicorn", "ARGS": {"bind": f"127.0.0.1:{port}"}},
        "b": {"BACKEND": "gunicorn", "ARGS": {"bind": f"127.0.0.2:{port}"}},
        "c": {"BACKEND": "uvicorn", "ARGS": {"host": "127.0.0.2", "port": port}},
    }
    assert command_error("--all", processes=processes) == (
        f"Processes 'b' and 'c' both listen on port {port} (127.0.0.2 and 127.0.0.2): run together, "
        "the second cannot start; give one of them another port (ARGS or the command line)."
    )


@pytest.mark.usefixtures("django_project")
def test_several_processes_on_a_system_without_process_groups_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django_prodserver import supervisor

    # Only the supervisor's view of the system: the rest of this process stays on POSIX.
    monkeypatch.setattr(supervisor, "os", SimpleNamespace(name="nt"))
    assert command_error("one", "two", processes={"one": chatty(), "two": chatty()}) == (
        "Running several processes together needs a POSIX system (process groups and signals); "
        "start each with 'prodserver NAME' under your platform's service manager."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["migrate", "--frob"],
            "Process 'release': migrate rejects the options: unrecognized arguments: --frob",
        ),
        (["migrat"], "Process 'release': 'migrat' is not a management command; did you mean 'migrate'?"),
        (
            {"noinput": True},
            "Process 'release': ManagementCommand runs the command named first in "
            "PRODUCTION_PROCESSES['release']['ARGS']; write it as a list, e.g. ['migrate', '--noinput'].",
        ),
    ],
)
@pytest.mark.usefixtures("django_project")
def test_management_command_errors_before_anything_starts(args: Any, message: str) -> None:
    # In this process: the checks find these before the supervisor starts.
    processes = {
        "release": {"BACKEND": "django_prodserver.backends.command.ManagementCommand", "ARGS": args},
        "web": chatty(),
    }
    assert command_error("release", "web", processes=processes) == message


def test_dry_run_shows_each_child_command_with_checks_done_once() -> None:
    result = run_manage(
        "prodserver",
        "one",
        "two",
        "--dry-run",
        "--settings=testproject.settings",
        processes={"one": chatty(), "two": chatty("--lines=1")},
    )
    assert result.returncode == 0, result.stderr
    manage = str(MANAGE)
    assert result.stdout.splitlines() == [
        f"one: {sys.executable} {manage} prodserver one --skip-checks --settings=testproject.settings",
        "    chatty",
        f"two: {sys.executable} {manage} prodserver two --skip-checks --settings=testproject.settings",
        "    chatty --lines=1",
    ]


def test_started_with_python_m_django_the_children_are_too() -> None:
    """``python -m django`` leaves django/__main__.py in argv[0]; children must use ``-m django``."""
    with prodserver(
        "one",
        "two",
        processes={"one": chatty(), "two": chatty()},
        extra=("--settings=testproject.settings",),
        command=(sys.executable, "-m", "django"),
    ) as sup:
        sup.wait_for_line("one    | ready")
        sup.wait_for_line("two    | ready")
        sup.send(signal.SIGTERM)
        assert sup.wait(15) == 0, sup.output
        assert_no_orphans(sup, started(sup, "one") + started(sup, "two"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_children_stop_when_the_supervisor_is_killed() -> None:
    """Even SIGKILL, which the supervisor cannot catch, leaves no child running orphaned."""
    processes = {"one": chatty(), "two": chatty(STOP_SIGNAL="SIGINT")}
    with prodserver("one", "two", processes=processes) as sup:
        sup.wait_for_line("one    | ready")
        sup.wait_for_line("two    | ready")
        children = started(sup, "one") + started(sup, "two")
        os.kill(sup.pid, signal.SIGKILL)
        assert sup.wait(10) == -signal.SIGKILL
        assert_no_orphans(sup, children)

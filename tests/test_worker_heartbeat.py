"""``prodserver --healthcheck NAME`` for workers: their heartbeat, on real workers and brokers.

Each worker records a heartbeat while it runs; the check exits 0 while it is fresh, 1 once
the worker's process is frozen (SIGSTOP) and again after it exits, and it never talks to
the broker. Under the supervisor, ``--healthcheck`` without a name checks every process.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from harness import REDIS_URL, TESTS_DIR, child_env, free_port, prodserver, run_manage, wait_until
from worker_support import (
    CELERY_APP,
    CELERY_BEAT,
    DJANGO_Q2,
    DJANGO_TASKS,
    celery_delete_queue,
    celery_processes,
    q2_settings,
    tasks_settings,
    unique,
)


def health(directory: Path) -> dict[str, Any]:
    # Short enough for a test, long enough for a loaded machine's scheduler.
    return {"HEARTBEAT_DIR": str(directory), "HEARTBEAT_INTERVAL": 0.2, "HEARTBEAT_MAX_AGE": 4}


def beating_pid(directory: Path) -> int:
    """The process that writes the heartbeat: the worker, or Django-Q2's sentinel."""
    (file,) = directory.glob("*.heartbeat")
    return int(json.loads(file.read_text())["pid"])


@pytest.fixture
def queue() -> Iterator[str]:
    name = unique("heartbeat")
    yield name
    celery_delete_queue(REDIS_URL, name)


def worker(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    """processes, settings, env and db for one real worker kind."""
    if kind == "celery":
        queue = request.getfixturevalue("queue")
        return {
            "processes": celery_processes(queue),
            "settings": {"CELERY_TASK_DEFAULT_QUEUE": queue},
            "env": {"CELERY_BROKER_URL": REDIS_URL},
        }
    db = str(tmp_path / "db.sqlite3")
    if kind == "django-tasks":
        args = {"interval": 0.1, "startup-delay": False}
        setup = {
            "processes": {"worker": {"BACKEND": DJANGO_TASKS, "ARGS": args}},
            "settings": tasks_settings(),
        }
    else:
        setup = {"processes": {"worker": {"BACKEND": DJANGO_Q2}}, "settings": q2_settings(orm="default")}
    migrated = run_manage("migrate", "--noinput", db=db, settings=setup["settings"])
    assert migrated.returncode == 0, migrated.stderr
    return {**setup, "db": db}


def healthcheck(setup: dict[str, Any], *names: str) -> subprocess.CompletedProcess[str]:
    return run_manage("prodserver", "--healthcheck", *names, **setup)


def fast_healthcheck(setup: dict[str, Any], *names: str) -> subprocess.CompletedProcess[str]:
    """``python -m django_prodserver --healthcheck``: no manage.py, no django.setup()."""
    return subprocess.run(
        [sys.executable, "-m", "django_prodserver", "--healthcheck", *names],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(**setup),
        cwd=str(TESTS_DIR),
        check=False,
    )


@pytest.mark.parametrize("kind", ["celery", "django-tasks", "django-q2"])
def test_healthcheck_follows_the_worker_loop(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    setup = worker(kind, tmp_path, request)
    setup["settings"] = {**setup["settings"], "PRODSERVER_HEALTH": health(tmp_path)}
    with prodserver("worker", **setup) as child:
        wait_until("the heartbeat is fresh", lambda: healthcheck(setup, "worker").returncode == 0, child)
        alive = healthcheck(setup, "worker")
        pid = beating_pid(tmp_path)
        assert pid == child.pid or kind == "django-q2"
        assert re.fullmatch(rf"worker: alive: heartbeat \d+\.\d s ago from process {pid}\n", alive.stdout)
        fast = fast_healthcheck(setup, "worker")
        assert (fast.returncode, fast.stderr) == (0, "")
        assert re.fullmatch(rf"worker: alive: heartbeat \d+\.\d s ago from process {pid}\n", fast.stdout)
        os.kill(pid, signal.SIGSTOP)
        try:
            wait_until(
                "the frozen worker is dead", lambda: healthcheck(setup, "worker").returncode == 1, child
            )
            frozen = healthcheck(setup, "worker")
        finally:
            os.kill(pid, signal.SIGCONT)
        assert re.fullmatch(
            rf"CommandError: worker: dead: last heartbeat \d+ s ago \(limit 4 s\), "
            rf"from process {pid}\.\n",
            frozen.stderr,
        ), frozen.stderr
        wait_until("it beats again", lambda: healthcheck(setup, "worker").returncode == 0, child)
        assert child.stop() == 0, child.output
    gone = healthcheck(setup, "worker")
    assert gone.returncode == 1
    files = list(tmp_path.glob("*.heartbeat"))
    assert files == []
    assert gone.stderr == (
        f"CommandError: worker: dead: no heartbeat at {tmp_path}/testproject.settings.worker.heartbeat; "
        "is the worker running on this machine?\n"
    )
    fast = fast_healthcheck(setup, "worker")
    assert (fast.returncode, fast.stderr) == (1, gone.stderr.removeprefix("CommandError: "))


def test_fast_healthcheck_needs_the_settings_module() -> None:
    env = {k: v for k, v in child_env().items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "django_prodserver", "--healthcheck", "worker"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "python -m django_prodserver: DJANGO_SETTINGS_MODULE is not set; set it as the worker has it "
        "(e.g. mysite.settings), or run 'manage.py prodserver --healthcheck'.\n"
    )


def test_a_broker_outage_makes_the_worker_not_ready_never_dead(queue: str, tmp_path: Path) -> None:
    """Liveness is not readiness: a worker waiting for its broker is alive (a restart cannot help),
    reported not ready, failed by ``--ready`` only, and ready again once the broker is back."""
    from test_health import tcp_proxy

    port = free_port()
    setup: dict[str, Any] = {
        "processes": celery_processes(queue),
        "settings": {"CELERY_TASK_DEFAULT_QUEUE": queue, "PRODSERVER_HEALTH": health(tmp_path)},
        "env": {"CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0"},
    }
    url = urlparse(REDIS_URL)
    upstream = (url.hostname or "127.0.0.1", url.port or 6379)
    with contextlib.ExitStack() as broker:
        broker.enter_context(tcp_proxy(port, upstream))
        with prodserver("worker", **setup) as child:
            wait_until(
                "the heartbeat is fresh", lambda: fast_healthcheck(setup, "worker").returncode == 0, child
            )
            alive = rf"worker: alive: heartbeat \d+\.\d s ago from process {child.pid}\n"
            for ready in (
                healthcheck(setup, "--ready", "worker"),
                fast_healthcheck(setup, "--ready", "worker"),
            ):
                assert (ready.returncode, ready.stderr) == (0, ""), ready.stderr
                assert re.fullmatch(alive, ready.stdout), ready.stdout
            broker.close()  # the broker goes away
            child.wait_for_line("consumer: Cannot connect to redis://")
            wait_until(
                "the worker is reported not ready",
                lambda: "not ready" in fast_healthcheck(setup, "worker").stdout,
                child,
            )
            reason = (
                rf"cannot reach the Celery broker at redis://127\.0\.0\.1:{port}/0: "
                rf"Error 111 connecting to 127\.0\.0\.1:{port}\. Connection refused\."
            )
            beating = rf"heartbeat \d+\.\d s ago from process {child.pid}"
            for check in (healthcheck(setup, "worker"), fast_healthcheck(setup, "worker")):
                assert (check.returncode, check.stderr) == (0, ""), check.stderr
                assert re.fullmatch(rf"worker: alive, not ready: {reason} \({beating}\)\n", check.stdout)
            failed = healthcheck(setup, "--ready", "worker")
            assert (failed.returncode, failed.stdout) == (1, "")
            assert re.fullmatch(
                rf"CommandError: worker: not ready: {reason} \(alive: {beating}\)\.\n", failed.stderr
            ), failed.stderr
            fast = fast_healthcheck(setup, "--ready", "worker")
            assert (fast.returncode, fast.stdout) == (1, "")
            assert re.fullmatch(rf"worker: not ready: {reason} \(alive: {beating}\)\.\n", fast.stderr)
            # Observed for longer than HEARTBEAT_MAX_AGE, after a bounded event (the outage).
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                check = fast_healthcheck(setup, "worker")
                assert check.returncode == 0, check.stderr + child.output
            with tcp_proxy(port, upstream):  # the broker is back
                wait_until(
                    "the worker is ready again",
                    lambda: fast_healthcheck(setup, "--ready", "worker").returncode == 0,
                    child,
                )
                assert re.fullmatch(alive, healthcheck(setup, "--ready", "worker").stdout)
                child.kill_group()


def test_a_killed_worker_is_dead_at_once(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    setup = worker("django-tasks", tmp_path, request)
    setup["settings"] = {
        **setup["settings"],
        "PRODSERVER_HEALTH": {**health(tmp_path), "HEARTBEAT_MAX_AGE": 600},
    }
    with prodserver("worker", **setup) as child:
        wait_until("the heartbeat is fresh", lambda: healthcheck(setup, "worker").returncode == 0, child)
        child.kill_group()
        child.wait()
    killed = healthcheck(setup, "worker")
    assert killed.stderr == (
        f"CommandError: worker: dead: process {child.pid} that wrote "
        f"{tmp_path}/testproject.settings.worker.heartbeat is gone.\n"
    )


def test_supervised_healthcheck_without_a_name_checks_every_process(queue: str, tmp_path: Path) -> None:
    beat = {
        "BACKEND": CELERY_BEAT,
        "APP": CELERY_APP,
        "ARGS": {"schedule": str(tmp_path / "celerybeat-schedule"), "max-interval": 1},
    }
    setup: dict[str, Any] = {
        "processes": {**celery_processes(queue), "beat": beat},
        "settings": {"CELERY_TASK_DEFAULT_QUEUE": queue, "PRODSERVER_HEALTH": health(tmp_path)},
        "env": {"CELERY_BROKER_URL": REDIS_URL},
    }
    with prodserver("worker", "beat", **setup) as both:
        wait_until("both beat", lambda: healthcheck(setup).returncode == 0, both)
        result = healthcheck(setup)
        lines = result.stdout.splitlines()
        assert [line.split(":")[0:2] for line in lines] == [["worker", " alive"], ["beat", " alive"]], result
        manifest = json.loads((tmp_path / "testproject.settings.supervisor.json").read_text())
        assert manifest == {"pid": both.pid, "names": ["worker", "beat"]}
        assert both.stop() == 0, both.output
    # The supervisor is gone: the first process is checked, and it is dead (its file removed,
    # or naming a process that no longer exists).
    assert healthcheck(setup).stderr.startswith("CommandError: worker: dead: ")


def test_dry_run_shows_the_heartbeat(tmp_path: Path) -> None:
    result = run_manage(
        "prodserver",
        "worker",
        "--dry-run",
        processes={"worker": {"BACKEND": CELERY_BEAT, "APP": CELERY_APP}},
        settings={"PRODSERVER_HEALTH": {"HEARTBEAT_DIR": str(tmp_path)}},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"  heartbeat: {tmp_path}/testproject.settings.worker.heartbeat every 5 s, dead after 30 s "
        "(PRODSERVER_HEALTH); check it with 'manage.py prodserver --healthcheck worker'"
    )


def test_an_unwritable_heartbeat_dir_stops_the_start(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    result = run_manage(
        "prodserver",
        "worker",
        processes={"worker": {"BACKEND": CELERY_BEAT, "APP": CELERY_APP}},
        settings={"PRODSERVER_HEALTH": {"HEARTBEAT_DIR": str(blocked / "beats")}},
        env={"CELERY_BROKER_URL": REDIS_URL},
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"CommandError: Process 'worker': cannot write its heartbeat to {blocked}/beats: Not a directory; "
        "set PRODSERVER_HEALTH['HEARTBEAT_DIR'] to a writable directory (e.g. an emptyDir volume).\n"
    )

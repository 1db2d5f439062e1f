"""Celery worker, beat and Flower through ``manage.py prodserver``, with real brokers and tasks.

Each test gets its own queue (and node name), so tests running in parallel on the same Redis
and RabbitMQ never take each other's tasks. Tasks are published by name from the test, as a
web process would; that they ran is seen from the file each one writes.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The lowest-versions run of the web backends has no Celery; its own run has.
pytest.importorskip("celery")

from django_prodserver.backends._celery_shutdown import soft_shutdown_available  # noqa: E402
from harness import BROKER_URL, REDIS_URL, Child, free_port, prodserver, run_manage, wait_until
from worker_support import (
    CELERY_APP,
    CELERY_BEAT,
    CELERY_FLOWER,
    STOP_AFTER_A_TASK,
    celery_delete_queue,
    celery_processes,
    celery_queue_length,
    celery_send,
    release,
    signal_group,
    stop_group,
    unique,
    wait_for_file,
)

BROKERS = {"redis": REDIS_URL, "rabbitmq": BROKER_URL}

needs_soft_shutdown = pytest.mark.skipif(
    not soft_shutdown_available(), reason="Celery 5.5 added soft shutdown"
)


@pytest.fixture
def queue() -> Iterator[str]:
    name = unique("prodserver")
    yield name
    for broker in BROKERS.values():
        celery_delete_queue(broker, name)


def start_worker(broker: str, queue: str, settings: dict[str, Any] | None = None, **entry: Any) -> Any:
    return prodserver(
        "worker",
        processes=celery_processes(queue, **entry),
        settings={"CELERY_TASK_DEFAULT_QUEUE": queue, **(settings or {})},
        env={"CELERY_BROKER_URL": broker},
    )


def run_held_task(child: Child, broker: str, queue: str, done: Path) -> None:
    """A task that runs until the test calls ``release(done)``: it is running when this returns."""
    child.wait_for_line(" ready.")
    celery_send(broker, "testproject.held_touch", str(done), queue=queue)
    wait_for_file(Path(f"{done}.started"), child)


@pytest.mark.lowest_workers
@pytest.mark.parametrize("broker", list(BROKERS.values()), ids=list(BROKERS))
def test_the_worker_runs_a_task(broker: str, queue: str, tmp_path: Path) -> None:
    with start_worker(broker, queue) as child:
        child.wait_for_line(" ready.")
        celery_send(broker, "testproject.touch", str(tmp_path / "done"), queue=queue)
        assert wait_for_file(tmp_path / "done", child).startswith("done by pid")
        assert child.stop(timeout=STOP_AFTER_A_TASK) == 0, child.output


@needs_soft_shutdown
def test_soft_shutdown_survives_sigterm_to_every_process(queue: str, tmp_path: Path) -> None:
    # The default, SHUTDOWN 'soft': pool processes ignore SIGTERM, so a signal sent to the
    # whole group (systemd, Heroku) does not kill the task; it finishes inside the
    # worker's own grace period (worker_soft_shutdown_timeout) and the worker exits 0.
    done = tmp_path / "done"
    settings = {"CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": 10}
    with start_worker(REDIS_URL, queue, settings) as child:
        run_held_task(child, REDIS_URL, queue, done)
        signal_group(child)
        # The task is still held when the soft shutdown begins; it finishes inside the grace
        # period, which Celery waits out in full (so it is short, and the task is released at once).
        child.wait_for_line("Initiating Soft Shutdown, terminating in 10.0 seconds")
        release(done)
        assert child.wait() == 0, child.output
        assert done.exists(), child.output
        assert (
            "prodserver: worker: SHUTDOWN 'soft': SIGTERM gives running tasks 10 s "
            "(worker_soft_shutdown_timeout), then unfinished ones are lost: set task_acks_late "
            "to requeue them." in child.output
        )


@needs_soft_shutdown
def test_soft_shutdown_requeues_a_late_acked_task_it_cuts_short(queue: str, tmp_path: Path) -> None:
    # The grace period ends before the task does: Celery cancels it and, with acks_late,
    # it goes back to the queue; the next worker runs it to the end.
    done = tmp_path / "done"
    settings = {"CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": 1, "CELERY_TASK_ACKS_LATE": True}
    with start_worker(BROKER_URL, queue, settings) as child:
        run_held_task(child, BROKER_URL, queue, done)
        assert stop_group(child) == 0, child.output
        assert not done.exists()
    # RabbitMQ puts the unacknowledged message back once it sees the connection closed.
    wait_until("the task is back in the queue", lambda: celery_queue_length(BROKER_URL, queue) == 1)
    Path(f"{done}.started").unlink()
    with start_worker(BROKER_URL, queue, settings) as again:
        wait_for_file(Path(f"{done}.started"), again)


def stops_warm_and_finishes_the_task(child: Child, broker: str, queue: str, done: Path) -> None:
    """SIGTERM to the main process while a task runs: a warm shutdown that lets it finish."""
    run_held_task(child, broker, queue, done)
    child.send(signal.SIGTERM)
    # Still running once the worker has begun its shutdown; only then is it let go.
    child.wait_for_line("worker: Warm shutdown (MainProcess)")
    release(done)
    assert child.wait() == 0, child.output
    assert done.exists(), child.output


@pytest.mark.lowest_workers
def test_warm_shutdown_waits_for_the_task(queue: str, tmp_path: Path) -> None:
    # SHUTDOWN 'warm' is Celery's own default: SIGTERM to the main process waits for running
    # tasks however long they take, then the worker exits 0 at once.
    done = tmp_path / "done"
    with start_worker(BROKER_URL, queue, SHUTDOWN="warm") as child:
        stops_warm_and_finishes_the_task(child, BROKER_URL, queue, done)
        assert "Soft Shutdown" not in child.output


@pytest.mark.lowest_workers
def test_a_late_acked_task_survives_a_hard_kill(queue: str, tmp_path: Path) -> None:
    # SIGKILL leaves no time for anything: with acks_late the broker still holds the
    # message, and RabbitMQ redelivers it as soon as the dead worker's connection closes.
    done = tmp_path / "done"
    settings = {"CELERY_TASK_ACKS_LATE": True}
    with start_worker(BROKER_URL, queue, settings) as child:
        run_held_task(child, BROKER_URL, queue, done)
        child.kill_group()
    Path(f"{done}.started").unlink()
    with start_worker(BROKER_URL, queue, settings) as again:
        wait_for_file(Path(f"{done}.started"), again)


@pytest.mark.lowest_workers
def test_beat_sends_the_scheduled_task_to_the_worker(queue: str, tmp_path: Path) -> None:
    # Both under prodserver's supervisor, as a Procfile-less deployment runs them: the worker
    # re-executes itself for its soft shutdown inside the supervised child.
    done = tmp_path / "done"
    schedule = {"touch": {"task": "testproject.touch", "schedule": 1.0, "args": [str(done)]}}
    beat = {
        "BACKEND": CELERY_BEAT,
        "APP": CELERY_APP,
        "ARGS": {"schedule": str(tmp_path / "celerybeat-schedule"), "max-interval": 1},
    }
    processes = {**celery_processes(queue), "beat": beat}
    # A task every second: the stop may find one still active, and the soft shutdown then
    # waits its timeout in full, which must end well inside the supervisor's 25 s.
    settings = {
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_BEAT_SCHEDULE": schedule,
        "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": 2,
    }
    env = {"CELERY_BROKER_URL": REDIS_URL}
    with prodserver("worker", "beat", processes=processes, settings=settings, env=env) as both:
        wait_for_file(done, both)
        assert both.stop(timeout=STOP_AFTER_A_TASK) == 0, both.output
        assert "Scheduler: Sending due task touch (testproject.touch)" in both.output
        assert "system | beat exited with code 0" in both.output
        assert "system | worker exited with code 0" in both.output


@pytest.mark.lowest_workers
def test_flower_serves_its_ui(tmp_path: Path) -> None:
    port = free_port()
    processes = {
        "flower": {
            "BACKEND": CELERY_FLOWER,
            "APP": CELERY_APP,
            "ARGS": {"port": port, "db": str(tmp_path / "flower"), "inspect_timeout": 100},
        }
    }
    with prodserver("flower", processes=processes, env={"CELERY_BROKER_URL": REDIS_URL}) as child:
        response = child.wait_http(f"http://127.0.0.1:{port}/workers")
        assert response.status == 200, response.text
        # Flower 2.0's page says "Flower", later ones "Workers · Flower".
        assert re.search(r"<title>[^<]*Flower</title>", response.text), response.text
        assert child.stop() == 0, child.output


# ----- what prodserver prints, without starting anything ----------------------------------------


@needs_soft_shutdown
def test_dry_run_shows_the_shutdown_mode() -> None:
    processes = celery_processes("q1")
    result = run_manage("prodserver", "worker", "--dry-run", processes=processes)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "env REMAP_SIGTERM=SIGQUIT celery -A testproject.celery:app worker --loglevel=INFO "
        "--concurrency=1 --hostname=q1@%h --queues=q1 --without-gossip --without-mingle "
        "--without-heartbeat"
    )
    assert [line.split() for line in lines[-3:-1]] == [
        ["REMAP_SIGTERM=SIGQUIT", "backend", "SHUTDOWN", "'soft'"],
        ["worker_soft_shutdown_timeout=20", "backend", "SHUTDOWN", "'soft'"],
    ]
    assert lines[-1].startswith("  heartbeat: ")


@pytest.mark.lowest_workers
def test_dry_run_of_a_warm_worker_is_celerys_own_command() -> None:
    processes = celery_processes("q1", SHUTDOWN="warm", ARGS={"queues": ["a", "b"]})
    result = run_manage("prodserver", "worker", "--dry-run", processes=processes)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "celery -A testproject.celery:app worker --loglevel=INFO --concurrency=1 "
        "--hostname=q1@%h --queues=a,b --without-gossip --without-mingle --without-heartbeat"
    )


@pytest.mark.lowest_workers
def test_flower_listens_on_loopback_unless_told_otherwise() -> None:
    processes = {"flower": {"BACKEND": CELERY_FLOWER, "APP": CELERY_APP, "ARGS": {"persistent": False}}}
    result = run_manage("prodserver", "flower", "--dry-run", processes=processes)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "celery -A testproject.celery:app flower --address=127.0.0.1 --persistent=False"
    )


# ----- Celery 5.3 and 5.4 (the lowest-versions venv): no soft shutdown, so warm ---------------


@pytest.mark.lowest_workers
@pytest.mark.skipif(soft_shutdown_available(), reason="this Celery has soft shutdown")
def test_an_older_celery_stops_warm_by_default_and_says_so(queue: str, tmp_path: Path) -> None:
    # No REMAP_SIGTERM on these releases (SIGQUIT there is a cold shutdown): SIGTERM to the
    # main process stops the worker warm, and the task in progress still finishes.
    done = tmp_path / "done"
    with start_worker(REDIS_URL, queue) as child:
        stops_warm_and_finishes_the_task(child, REDIS_URL, queue, done)
    import celery

    assert (
        f"prodserver: worker: Celery {celery.__version__} has no soft shutdown (5.5 added it): SIGTERM "
        "waits for running tasks however long they take (warm shutdown); send it to the main process only."
    ) in child.output


@pytest.mark.lowest_workers
@pytest.mark.skipif(soft_shutdown_available(), reason="this Celery has soft shutdown")
def test_an_older_celery_refuses_soft_shutdown_in_one_line() -> None:
    import celery

    result = run_manage("prodserver", "worker", processes=celery_processes("q1", SHUTDOWN="soft"))
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        f"CommandError: Process 'worker': SHUTDOWN 'soft' needs Celery 5.5 or later (installed: "
        f"{celery.__version__}); upgrade Celery, or set SHUTDOWN 'warm'.\n",
    )


# ----- the soft timeout fits inside the supervisor's deadline ------------------------------------


@needs_soft_shutdown
def test_the_soft_timeout_follows_the_supervisors_deadline() -> None:
    result = run_manage(
        "prodserver",
        "worker",
        "--dry-run",
        processes=celery_processes("q1"),
        settings={"PRODSERVER_SUPERVISOR": {"SHUTDOWN_TIMEOUT": 10}},
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if "worker_soft_shutdown_timeout" in line]
    assert rows == [["worker_soft_shutdown_timeout=8", "backend", "SHUTDOWN", "'soft'"]]


@needs_soft_shutdown
def test_a_soft_timeout_beyond_the_supervisors_deadline_is_a_check_error() -> None:
    settings = {"CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": 30}
    result = run_manage("check", processes=celery_processes("q1"), settings=settings)
    assert result.returncode == 1
    assert (
        "?: (prodserver.E001) Process 'worker': the Celery app's worker_soft_shutdown_timeout (30 s) is not "
        "below PRODSERVER_SUPERVISOR['SHUTDOWN_TIMEOUT'] (25 s), so running tasks would be killed before "
        "their time is up; lower the one or raise the other.\n"
    ) in result.stderr

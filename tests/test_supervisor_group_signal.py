"""A Celery worker under the supervisor when the platform signals every process (Heroku, systemd).

The worker's main process gets the platform's SIGTERM and then the one the supervisor
forwards. To Celery's soft shutdown a second SIGTERM means "cancel the running tasks"; the
supervised child must count it once, so the task finishes inside the soft-shutdown window.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import REDIS_URL, prodserver
from test_supervisor import assert_no_orphans, chatty, started
from worker_support import celery_delete_queue, celery_processes, celery_send, unique, wait_for_file

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and signals")


@pytest.fixture
def queue() -> Iterator[str]:
    name = unique("prodserver")
    yield name
    celery_delete_queue(REDIS_URL, name)


def test_a_running_celery_task_survives_sigterm_to_every_process(queue: str, tmp_path: Path) -> None:
    done = tmp_path / "done"
    processes = {**celery_processes(queue), "idle": chatty()}
    settings = {"CELERY_TASK_DEFAULT_QUEUE": queue, "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": 10}
    env = {"CELERY_BROKER_URL": REDIS_URL}
    with prodserver("worker", "idle", processes=processes, settings=settings, env=env) as sup:
        sup.wait_for_line(" ready.")
        sup.wait_for_line("idle   | ready")
        celery_send(REDIS_URL, "testproject.slow_touch", 3, str(done), queue=queue)
        wait_for_file(Path(f"{done}.started"), sup)
        [worker] = started(sup, "worker")
        children = [worker, *started(sup, "idle")]
        # The platform: every process (the worker, its pool, the supervisor) gets SIGTERM.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker, signal.SIGTERM)
        # (Sent at the same instant, two SIGTERMs merge in the kernel; ours comes a bit later.)
        sup.wait_for_line("Initiating Soft Shutdown")
        sup.send(signal.SIGTERM)
        assert sup.wait(30) == 0, sup.output
        assert done.exists(), sup.output
        assert "worker | prodserver: SIGTERM ignored: already stopping" in sup.lines, sup.output
        assert_no_orphans(sup, children)

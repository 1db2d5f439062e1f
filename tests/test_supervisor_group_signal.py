"""Children of the supervisor when the platform signals every process (Heroku, systemd).

Each child gets the platform's SIGTERM and then the one the supervisor forwards. To Celery's
soft shutdown a second SIGTERM means "cancel the running tasks"; the supervised child must
count it once, so the task finishes inside the soft-shutdown window. The web servers whose
signal handling the child guard does not wrap (hypercorn's asyncio, granian's Rust runtime,
uWSGI's C) must still finish the request in flight.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract import BY_ID, WebBackend, observed_workers
from harness import GRANIAN_WORKER_RACE, REDIS_URL, exits_cleanly, free_port, prodserver, wait_until
from live_checks import request_in_flight_survives
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
        celery_send(REDIS_URL, "testproject.held_touch", str(done), queue=queue)
        wait_for_file(Path(f"{done}.started"), sup)
        [worker] = started(sup, "worker")
        children = [worker, *started(sup, "idle")]
        # The platform: every process (the worker, its pool, the supervisor) gets SIGTERM.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker, signal.SIGTERM)
        # (Sent at the same instant, two SIGTERMs merge in the kernel; ours comes a bit later.)
        sup.wait_for_line("Initiating Soft Shutdown")
        sup.send(signal.SIGTERM)
        sup.wait_for_line("worker | prodserver: SIGTERM ignored: already stopping")
        # The task is still running after both signals; let it finish now.
        Path(f"{done}.release").write_text("")
        assert sup.wait(30) == 0, sup.output
        assert done.exists(), sup.output
        assert_no_orphans(sup, children)


@pytest.mark.parametrize(
    "backend", [BY_ID["hypercorn"], BY_ID["granian-wsgi"], BY_ID["uwsgi"]], ids=lambda b: b.id
)
def test_a_request_in_flight_survives_sigterm_to_every_process(backend: WebBackend) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = {"BACKEND": backend.path, "ARGS": backend.listen_args("127.0.0.1", port)}
    with prodserver(
        "web", "idle", processes={"web": web, "idle": chatty()}, env={"WEB_CONCURRENCY": "2"}
    ) as sup:
        sup.wait_http(f"{base}/")
        [server] = started(sup, "web")
        # Every worker up first: a worker still starting when the signal comes is another case.
        workers = backend.expected_processes(2)
        wait_until(f"{workers} workers", lambda: observed_workers(backend, server) == workers, sup, 30)

        def stop() -> None:
            # The platform: the server's every process (master, workers, a router) gets
            # SIGTERM, then the supervisor forwards its own.
            os.killpg(server, signal.SIGTERM)
            sup.send(signal.SIGTERM)

        request_in_flight_survives(sup, base, stop)
        exits_cleanly(sup, tolerate=GRANIAN_WORKER_RACE)

"""A worker's readiness in its heartbeat: reported by ``--healthcheck``, failed by ``--ready`` only.

The Celery worker is proven end to end in test_worker_heartbeat.py (its broker behind a proxy
that the test closes), Django-Q2 here (its Redis behind one: the check runs in the forked
sentinel); the heartbeat and its readiness thread also run in the test process against a
real listening socket that comes and goes, and the flag's misuse is refused.
"""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from django_prodserver import heartbeat
from django_prodserver.conf import HealthConfig
from django_prodserver.reach import Reach, Target
from harness import REDIS_URL, TESTS_DIR, child_env, free_port, prodserver, run_manage, wait_until
from worker_support import DJANGO_Q2, q2_settings


def test_the_heartbeat_carries_whether_the_broker_answers(tmp_path: Path) -> None:
    config = HealthConfig(heartbeat_dir=str(tmp_path), heartbeat_interval=0.05, heartbeat_max_age=30)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def connect() -> None:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()

    # The URL's password never reaches the heartbeat file nor the probe's line.
    target = Target(f"the broker at redis://user:hunter2@127.0.0.1:{port}/0", connect)
    alive = r"worker: alive: heartbeat \d+\.\d s ago from process \d+"
    with heartbeat.recording("worker", config, reach=Reach(target, 0.05)) as heart:
        heart.start()
        wait_until("the heartbeat is written", heart.file.exists)
        assert re.fullmatch(alive, heartbeat.check("worker", config, ready=True))
        listener.close()
        # A connection the kernel queued before the close is reset ([Errno 104]), and a check
        # may report that first; the steady state is "refused".
        wait_until("not ready", lambda: "Connection refused" in heartbeat.check("worker", config))
        reason = (
            f"cannot reach the broker at redis://user:***@127.0.0.1:{port}/0: [Errno 111] Connection refused"
        )
        beating = r"heartbeat \d+\.\d s ago from process \d+"
        line = heartbeat.check("worker", config)
        assert re.fullmatch(rf"worker: alive, not ready: {re.escape(reason)} \({beating}\)", line), line
        with pytest.raises(heartbeat.NotReady) as failed:
            heartbeat.check("worker", config, ready=True)
        assert re.fullmatch(
            rf"worker: not ready: {re.escape(reason)} \(alive: {beating}\)\.", str(failed.value)
        )
        assert "hunter2" not in heart.file.read_text()
        with socket.create_server(("127.0.0.1", port)):
            wait_until("ready again", lambda: "not ready" not in heartbeat.check("worker", config))
            assert re.fullmatch(alive, heartbeat.check("worker", config, ready=True))


def test_ready_goes_with_healthcheck() -> None:
    result = run_manage("prodserver", "--ready")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "CommandError: --ready goes with --healthcheck: 'prodserver --healthcheck --ready NAME'.\n"
    )


def test_the_fast_probe_refuses_an_unknown_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "django_prodserver", "--healthcheck", "--live", "worker"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=str(TESTS_DIR),
        check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "usage: python -m django_prodserver --healthcheck [--ready] [NAME ...]\n"


def test_django_q2_reports_its_redis_broker_from_the_sentinel(tmp_path: Path) -> None:
    """The heartbeat is written by the forked sentinel: readiness is checked from there too."""
    from test_health import tcp_proxy
    from test_worker_heartbeat import fast_healthcheck, health

    db = str(tmp_path / "db.sqlite3")
    migrated = run_manage("migrate", "--noinput", db=db, settings=q2_settings(orm="default"))
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    setup: dict[str, Any] = {
        "processes": {"worker": {"BACKEND": DJANGO_Q2}},
        "settings": {
            **q2_settings(redis=f"redis://127.0.0.1:{port}/0"),
            "PRODSERVER_HEALTH": health(tmp_path),
        },
        "db": db,
    }
    url = urlparse(REDIS_URL)
    upstream = (url.hostname or "127.0.0.1", url.port or 6379)
    with contextlib.ExitStack() as broker:
        broker.enter_context(tcp_proxy(port, upstream))
        with prodserver("worker", **setup) as child:
            wait_until("ready", lambda: fast_healthcheck(setup, "--ready", "worker").returncode == 0, child)
            broker.close()
            wait_until("not ready", lambda: "not ready" in fast_healthcheck(setup, "worker").stdout, child)
            check = fast_healthcheck(setup, "worker")
            assert check.returncode == 0, check.stderr
            assert re.fullmatch(
                rf"worker: alive, not ready: cannot reach Django-Q2's broker at "
                rf"redis://127\.0\.0\.1:{port}/0: Error 111 "
                rf"connecting to 127\.0\.0\.1:{port}\. Connection refused\. "
                rf"\(heartbeat \d+\.\d s ago from process (?!{child.pid}\))\d+\)\n",
                check.stdout,
            ), check.stdout
            with tcp_proxy(port, upstream):
                wait_until(
                    "ready again",
                    lambda: fast_healthcheck(setup, "--ready", "worker").returncode == 0,
                    child,
                )
                child.kill_group()


# Python 3.12+ warns of exactly the hazard this test forks into on purpose.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_fork_waits_for_a_probe_inside_its_driver() -> None:
    """A fork during a probe would hand the child the driver's lock, held: its connect hangs.

    Seen with Django-Q2 on SQLite: the pusher, forked while the readiness thread was inside
    ``sqlite3.connect()``, never connected. The fork now waits for the probe.
    """
    import os
    import threading
    import time

    from django_prodserver.backends.worker import unreachable

    inside, finished = threading.Event(), []

    def probe() -> None:
        inside.set()
        time.sleep(0.3)  # a driver's connect, holding its lock
        finished.append(time.monotonic())

    prober = threading.Thread(target=unreachable, args=(probe, 5.0))
    prober.start()
    assert inside.wait(5)
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    forked = time.monotonic()
    os.waitpid(pid, 0)
    prober.join()
    assert finished, "the probe did not finish"
    assert forked >= finished[0], "the fork went ahead while the probe was inside its driver"


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_probe_given_up_as_hung_delays_neither_the_next_probe_nor_a_fork() -> None:
    import os
    import threading
    import time

    from django_prodserver.backends.worker import REACH_TIMEOUT, unreachable

    release = threading.Event()
    try:
        assert unreachable(lambda: release.wait(30), 0.2) == "no answer within 0.2 s"
        # The database is back: the next probe answers, though the hung one still runs.
        assert unreachable(lambda: None, 5.0) is None
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        waited = time.monotonic() - started
        os.waitpid(pid, 0)
        assert waited < REACH_TIMEOUT / 2, f"the fork waited {waited:.1f} s for a probe given up"
    finally:
        release.set()

"""Django-Q2's cluster through ``manage.py prodserver``, with the ORM broker and with Redis.

Tasks are enqueued with ``async_task`` from ``manage.py shell`` under the same settings (each
test has its own cluster name, which is also its queue), and leave a file behind.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from harness import REDIS_URL, prodserver, run_manage, wait_until
from worker_support import DJANGO_Q2, q2_settings, release, shell, stop_group, wait_for_file

pytestmark = pytest.mark.lowest_workers

PROCESSES = {"worker": {"BACKEND": DJANGO_Q2}}


@pytest.fixture(scope="module")
def sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("q2") / "db.sqlite3")
    result = run_manage("migrate", "--noinput", db=path, settings=q2_settings(orm="default"))
    assert result.returncode == 0, result.stdout + result.stderr
    return path


BROKERS = {"orm": {"orm": "default"}, "redis": {"redis": REDIS_URL}}


def enqueue(settings: dict[str, Any], db: str, function: str, *args: Any) -> None:
    arguments = ", ".join(map(repr, (f"testproject.tasks.{function}", *args)))
    shell(f"from django_q.tasks import async_task; async_task({arguments})", db=db, settings=settings)


@pytest.mark.parametrize("broker", list(BROKERS.values()), ids=list(BROKERS))
def test_the_cluster_runs_a_task_and_finishes_it_on_sigterm(
    broker: dict[str, Any], sqlite: str, tmp_path: Path
) -> None:
    done, slow = tmp_path / "done", tmp_path / "slow"
    settings = q2_settings(**broker)
    with prodserver("worker", processes=PROCESSES, settings=settings, db=sqlite) as child:
        child.wait_for_line("running.")
        enqueue(settings, sqlite, "touch", str(done))
        assert wait_for_file(done, child).startswith("done by pid")
        enqueue(settings, sqlite, "held_touch", str(slow))
        wait_for_file(Path(f"{slow}.started"), child)
        child.send(signal.SIGTERM)
        # Still running when the cluster takes the signal; it finishes before the cluster stops.
        child.wait_for_line("stopping cluster processes")
        release(slow)
        assert child.wait() == 0, child.output
        assert slow.exists(), child.output
        assert "has stopped." in child.output
        # Every cycle saved the cluster's status (and beat) without an error.
        assert "[Q] ERROR" not in child.output


def test_sigterm_to_every_process_does_not_hang_and_the_orm_broker_reruns_the_task(
    sqlite: str, tmp_path: Path
) -> None:
    # Django-Q2's sentinel would die of a group SIGTERM and leave the cluster hanging in
    # stop(); prodserver keeps the signal from it. The worker process itself still stops
    # with its task (Django-Q2 stops overdue workers with SIGTERM), so the task is cut
    # short, and the ORM broker hands it out again once its 'retry' lock expires.
    slow = tmp_path / "slow"
    settings = q2_settings(orm="default", timeout=4, retry=5)
    with prodserver("worker", processes=PROCESSES, settings=settings, db=sqlite) as child:
        child.wait_for_line("running.")
        # Held until the release file exists: it cannot finish before the stop, however slow.
        enqueue(settings, sqlite, "held_touch", str(slow))
        wait_for_file(Path(f"{slow}.started"), child)
        assert stop_group(child, timeout=20) == 0, child.output
        assert not slow.exists(), child.output
    Path(f"{slow}.started").unlink()
    release(slow)
    with prodserver("worker", processes=PROCESSES, settings=settings, db=sqlite) as again:
        wait_for_file(Path(f"{slow}.started"), again, timeout=30)
        wait_for_file(slow, again)
        # Stopped once the monitor has saved the result: a stop while the result is on its way
        # from the worker can leave Django-Q2's monitor blocked for good (its own race,
        # django-q2 issue 339), which hung this test once in CI.
        tasks = "Success.objects.filter(func__endswith='held_touch')"
        found = f"any(t.args == ({str(slow)!r},) for t in {tasks})"
        saved = f"from django_q.models import Success; print({found})"

        def result_saved() -> bool:
            return shell(saved, db=sqlite, settings=settings) == "True"

        wait_until("the result saved", result_saved, again, 30)
        again.send(signal.SIGTERM)
        assert again.wait() == 0, again.output

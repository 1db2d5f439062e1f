"""What ``prodserver`` hands a process it starts.

The garbage collector is paused until the start (every pass would rescan all of Django for the
few hundred objects a start leaves behind): from the command line, since Django created the
app's config; otherwise from the command's execute(). The server itself must run with it on,
every other command must never see it paused, and a command that ends any other way must
leave it as it found it (off, if the project turned it off). The database connections the
start opened are closed before the hand-over, so a server or worker that forks never shares
one with its children.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

import django_prodserver
from django_prodserver import collector
from django_prodserver.apps import ProdserverConfig
from django_prodserver.backends.base import BaseWorkerBackend
from harness import free_port, prodserver, run_manage, wait_until
from in_process import configured

pytestmark = pytest.mark.usefixtures("django_project")


class Recording(BaseWorkerBackend):
    """A worker whose preflight opens a database connection, as a broker's table check does,
    and whose start only notes the collector's state and whether that connection is open."""

    program = "recording"
    seen: ClassVar[list[tuple[bool, int]]] = []
    connected: ClassVar[list[bool]] = []

    def preflight(self) -> None:
        connections["default"].ensure_connection()

    def start_server(self, *args: Any) -> None:
        Recording.seen.append((gc.isenabled(), gc.get_freeze_count()))
        Recording.connected.append(connections["default"].connection is not None)


PROCESSES = {"rec": {"BACKEND": f"{__name__}.Recording"}}


@pytest.fixture(autouse=True)
def collector_state() -> Iterator[None]:
    assert gc.isenabled()
    Recording.seen.clear()
    Recording.connected.clear()
    yield
    gc.unfreeze()  # the start froze this test process' objects
    collector.resume()  # a test that paused and did not resume leaves no pause behind
    gc.enable()


def test_the_started_process_collects_and_froze_what_the_start_loaded() -> None:
    with configured(PROCESSES):
        call_command("prodserver", "rec", skip_checks=False)
    [(enabled, frozen)] = Recording.seen
    assert enabled
    assert frozen > 0
    assert gc.isenabled()


def test_a_project_that_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    with configured(PROCESSES):
        call_command("prodserver", "rec")
    [(enabled, frozen)] = Recording.seen
    assert not enabled
    assert frozen > 0
    assert not gc.isenabled()


def test_a_command_that_fails_leaves_the_collector_on() -> None:
    with configured(PROCESSES), pytest.raises(CommandError, match="nope"):
        call_command("prodserver", "nope")
    assert gc.isenabled()
    assert Recording.seen == []


def test_the_connection_the_preflight_opened_is_closed_before_the_hand_over() -> None:
    with configured(PROCESSES):
        call_command("prodserver", "rec")
    assert Recording.connected == [False]


# ----- the pause from the command line: the app's config, before any model is imported -------


@pytest.mark.parametrize(
    "argv",
    [
        ["manage.py", "prodserver", "web"],
        ["/srv/app/src/manage.py", "worker"],
        ["./manage.py", "server", "--skip-checks"],
        ["/venv/bin/django-admin", "prodserver"],
        ["/venv/lib/python3.11/site-packages/django/__main__.py", "prodserver", "web"],
    ],
)
def test_a_command_line_that_starts_a_process_is_recognised(argv: list[str]) -> None:
    assert collector.starts_a_process(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["manage.py", "migrate"],
        ["manage.py"],
        ["manage.py", "devserver"],
        ["manage.py", "help", "prodserver"],
        # A test runner or script whose first argument happens to be a command's name.
        ["/venv/lib/python3.11/site-packages/pytest/__main__.py", "worker"],
        ["/venv/bin/pytest", "prodserver"],
        ["celery", "worker"],
    ],
)
def test_any_other_command_line_is_left_alone(argv: list[str]) -> None:
    assert not collector.starts_a_process(argv)


def app_config(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> ProdserverConfig:
    monkeypatch.setattr(sys, "argv", argv)
    return ProdserverConfig("django_prodserver", django_prodserver)


def test_the_app_config_of_a_start_pauses_until_the_command_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    config = app_config(["manage.py", "prodserver", "rec"], monkeypatch)
    assert not gc.isenabled()
    config.ready()  # 'prodserver' is this app's command: still paused
    assert not gc.isenabled()
    with configured(PROCESSES):
        call_command("prodserver", "rec")
    [(enabled, frozen)] = Recording.seen
    assert enabled
    assert frozen > 0
    assert gc.isenabled()


def test_the_app_config_of_another_command_never_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    app_config(["manage.py", "migrate"], monkeypatch).ready()
    assert gc.isenabled()


def test_a_command_of_the_same_name_from_another_app_gets_the_collector_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = app_config(["manage.py", "worker"], monkeypatch)
    assert not gc.isenabled()
    monkeypatch.setattr("django.core.management.get_commands", lambda: {"worker": "otherapp"})
    config.ready()
    assert gc.isenabled()


def test_a_real_start_from_the_command_line_pauses_at_setup_and_hands_over_with_the_collector_on() -> None:
    processes = {"rec": {"BACKEND": "testproject.handover.CollectorReport"}}
    for command in ("prodserver", "worker"):
        result = run_manage(command, "rec", processes=processes)
        assert result.returncode == 0, result.stderr[-2000:]
        [line] = [line for line in result.stdout.splitlines() if line.startswith("collecting=")]
        collecting, frozen, at_setup = line.split()
        assert collecting == "collecting=True"
        assert int(frozen.removeprefix("frozen=")) > 0
        # Paused already when Django imported the apps' models.
        assert at_setup == "at_setup=False"


@pytest.mark.parametrize(
    "backend",
    [
        # Spawns its workers: they inherit 'manage.py prodserver web' as their command line.
        "django_prodserver.backends.hypercorn.HypercornServer",
        # Forks them after the start resumed.
        "django_prodserver.backends.gunicorn.GunicornServer",
    ],
)
def test_every_worker_of_a_real_server_collects(backend: str) -> None:
    port = free_port()
    processes = {"web": {"BACKEND": backend, "ARGS": {"bind": f"127.0.0.1:{port}", "workers": 2}}}
    with prodserver("web", processes=processes) as child:
        pids = set()

        def both_workers_answered() -> bool:
            answer = child.wait_http(f"http://127.0.0.1:{port}/collecting/").json()
            assert answer["collecting"], (answer, child.output)
            pids.add(answer["pid"])
            return len(pids) == 2

        wait_until("both workers answered", both_workers_answered, child, timeout=60)


def test_other_commands_run_with_the_collector_on() -> None:
    result = run_manage("shell", "-c", "import gc; print(gc.isenabled())", processes={})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "True"

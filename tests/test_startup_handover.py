"""What ``prodserver`` hands a process it starts, in this test process.

The command pauses the garbage collector until the start (every pass would rescan all of
Django for the few hundred objects a start leaves behind); the server itself must run with it
on, and a command that ends any other way must leave it as it found it (off, if the project
turned it off). The database connections the start opened are closed before the hand-over,
so a server or worker that forks never shares one with its children.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from django_prodserver.backends.base import BaseWorkerBackend
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
def collector() -> Iterator[None]:
    assert gc.isenabled()
    Recording.seen.clear()
    Recording.connected.clear()
    yield
    gc.unfreeze()  # the start froze this test process' objects
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

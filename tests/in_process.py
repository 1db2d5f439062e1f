"""Run ``manage.py prodserver`` in the test process, for what only needs the message.

A message is asserted by calling the command (``call_command``) under ``override_settings``;
a real ``manage.py`` subprocess (``harness.run_manage``) is kept for what only a process shows:
the exit status, a stderr of the message alone, signals. Needs Django set up with the test
project (the ``django_project`` fixture of conftest.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

#: ``configured(UNSET)``: no PRODUCTION_PROCESSES setting at all.
UNSET: Any = object()


@contextlib.contextmanager
def configured(processes: Any, settings: Mapping[str, Any] | None = None) -> Iterator[None]:
    """This process' Django settings with PRODUCTION_PROCESSES = ``processes`` and ``settings``."""
    from django.conf import settings as django_settings
    from django.test import override_settings

    present = {} if processes is UNSET else {"PRODUCTION_PROCESSES": processes}
    with override_settings(**present, **(settings or {})):
        if processes is UNSET:
            del django_settings.PRODUCTION_PROCESSES
        yield


def command_error(*args: str, processes: Any, settings: Mapping[str, Any] | None = None) -> str:
    """The message ``manage.py prodserver ARGS`` fails with, from the command run in this process.

    With the checks, as ``manage.py`` runs it (``call_command`` skips them unless told). For
    errors found before anything starts; the exit status and a stderr of the message alone
    are a real process' to show (``run_manage``).
    """
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with configured(processes, settings):
        try:
            call_command("prodserver", *args, skip_checks=False)
        except CommandError as exc:
            return str(exc)
    raise AssertionError(f"prodserver {' '.join(args)} did not fail")

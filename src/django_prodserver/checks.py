"""Django system checks for ``PRODUCTION_PROCESSES``: every process validated without starting it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from django.core import checks

from django_prodserver import conf
from django_prodserver.errors import ProdserverError

#: ``prodserver web`` validates only the processes it starts, so a typo in another process'
#: ARGS does not keep the web server down, and start-up stays fast.
_only: ContextVar[frozenset[str] | None] = ContextVar("prodserver_checks_only", default=None)


@contextlib.contextmanager
def only_processes(names: Sequence[str]) -> Iterator[None]:
    token = _only.set(frozenset(names))
    try:
        yield
    finally:
        _only.reset(token)


def _error(exc: ProdserverError) -> checks.CheckMessage:
    return checks.Error(str(exc), id=exc.check_id)


def process_errors(names: Sequence[str]) -> list[ProdserverError]:
    """Every problem found in the named processes without starting them.

    The command reports these as plain lines before Django's checks run, so a typo reads
    as one line instead of a ``SystemCheckError`` block.
    """
    from django_prodserver.loading import load_backend

    errors: list[ProdserverError] = []
    for name in names:
        try:
            backend = load_backend(conf.get_process(name))
        except ProdserverError as exc:
            errors.append(exc)
            continue
        errors.extend(backend.check())
    return errors


@checks.register("prodserver")
def check_processes(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        names = conf.process_names()
    except ProdserverError as exc:
        return [_error(exc)]
    selected = _only.get()
    return [_error(exc) for exc in process_errors([n for n in names if selected is None or n in selected])]

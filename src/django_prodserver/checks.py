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


@checks.register("prodserver")
def check_processes(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from django_prodserver.loading import load_backend

    try:
        names = conf.process_names()
    except ProdserverError as exc:
        return [_error(exc)]
    selected = _only.get()
    messages: list[checks.CheckMessage] = []
    for name in names:
        if selected is not None and name not in selected:
            continue
        try:
            backend = load_backend(conf.get_process(name))
        except ProdserverError as exc:
            messages.append(_error(exc))
            continue
        messages.extend(_error(exc) for exc in backend.check())
    return messages

"""Start one process in this process: validate, preflight, say what was chosen, hand over."""

from __future__ import annotations

import gc
from typing import Any

from django_prodserver.backends.base import BaseServerBackend
from django_prodserver.backends.program import ProgramBackend
from django_prodserver.supervisor import child


def start(backend: BaseServerBackend, stderr: Any, *, validated: bool = False) -> None:
    """``validated``: the system checks just validated this process; do not parse it twice."""
    # Under the supervisor: a repeated stop signal (platform and supervisor both) is one stop.
    child.install(stop_signal=backend.process.stop_signal if backend.process else None)
    if isinstance(backend, ProgramBackend):
        if not validated:
            backend.validate()
        preflight = getattr(backend, "preflight", None)
        if preflight:
            preflight()
        for note in getattr(backend, "notes", list)():
            stderr.write(f"prodserver: {note}")
    if backend.process is not None and backend.process.warmup is not None:
        from django_prodserver.warmup import warm_up

        # Before the freeze below, so what the warm-up loads is frozen (and shared) too.
        warm_up(backend.process, stderr)
    argv = backend.prep_server_args()
    # Everything imported so far (Django, the project, this package) lives as long as the
    # process. Freezing it keeps the garbage collector from rescanning it in every worker
    # and from touching (and so copying) those pages after the server forks.
    gc.collect()
    gc.freeze()
    backend.start_server(*argv)

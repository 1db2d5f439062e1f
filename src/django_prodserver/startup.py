"""Start one process in this process: validate, preflight, say what was chosen, hand over."""

from __future__ import annotations

import gc
from typing import Any

from django_prodserver.backends.base import BaseProcessBackend


def start(backend: BaseProcessBackend, stderr: Any) -> None:
    # A no-op when the checks that ran before the command already validated this backend.
    backend.validate()
    backend.preflight()
    for note in backend.notes():
        stderr.write(f"prodserver: {note}")
    if backend.process is not None and backend.process.warmup is not None:
        from django_prodserver.warmup import warm_up

        # Before the freeze below, so what the warm-up loads is frozen (and shared) too.
        warm_up(backend.process, stderr)
    argv = backend.prepared_argv()
    # Everything imported so far (Django, the project, this package) lives as long as the
    # process. Freezing it keeps the garbage collector from rescanning it in every worker
    # and from touching (and so copying) those pages after the server forks.
    gc.collect()
    gc.freeze()
    backend.start_server(*argv)

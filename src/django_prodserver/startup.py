"""Start one process in this process: validate, preflight, say what was chosen, hand over."""

from __future__ import annotations

import gc
from typing import Any

from django_prodserver import collector
from django_prodserver.backends.base import BaseProcessBackend
from django_prodserver.supervisor import child


def start(backend: BaseProcessBackend, stderr: Any) -> None:
    """Start ``backend`` in this process, with the cyclic garbage collector that the command
    paused while it prepared the start (collector.py) back on."""
    # Under the supervisor: a repeated stop signal (platform and supervisor both) is one stop.
    child.install(stop_signal=backend.process.stop_signal if backend.process else None)
    # A no-op when the checks that ran before the command already validated this backend.
    backend.validate()
    backend.preflight()
    for note in backend.notes():
        stderr.write(f"prodserver: {note}")
    if backend.process is not None and backend.process.warmup is not None:
        from django_prodserver.warmup import warm_up

        collector.resume()  # the warm-up's requests make garbage as any request does: collect it

        # Before the freeze below, so what the warm-up loads is frozen (and shared) too.
        warm_up(backend.process, stderr)
    argv = backend.prepared_argv()
    # The checks, the preflight (a broker's tables) and the warm-up may have opened database
    # connections. A server or worker that forks would share them with every child, which
    # corrupts the connection's state: closed here, each process opens its own.
    from django.db import connections

    connections.close_all()
    # Everything imported so far (Django, the project, this package) lives as long as the
    # process. Freezing it keeps the garbage collector from rescanning it in every worker
    # and from touching (and so copying) those pages after the server forks. No collection
    # first: it would cost about 27 ms of start-up to free a few hundred objects (some 460 in
    # the test project, a few tens of kB). The collector was paused until now (collector.py):
    # the server collects.
    gc.freeze()
    collector.resume()
    drain = backend.resolve().drain
    if drain:
        from django_prodserver.draining import hold_stop_signal

        # Returns in a child that becomes the server; this process holds SIGTERM for it.
        hold_stop_signal(drain, backend.name, stderr)
    backend.start_server(*argv)

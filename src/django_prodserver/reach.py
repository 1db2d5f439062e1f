"""Worker readiness: whether a worker can reach what it works from, recorded with its heartbeat.

A broker or database outage leaves a worker alive (waiting for it; a restart would not help)
but unable to work. Orchestrators that route or alert on readiness want to know, so a thread
of the worker's process checks, once per heartbeat interval and bounded by a short timeout,
and the heartbeat file carries its latest verdict. The check runs beside the heartbeat, never
in its way: a hung broker delays the verdict, never the heartbeat (liveness stays liveness).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from django_prodserver.masking import mask_urls
from django_prodserver.records import record

#: The longest a check may take: a worker with a long interval still learns of an outage soon.
TIMEOUT = 5.0


@record
class Target:
    """What a worker works from: ``what`` names it for a message, ``probe()`` raises when unreachable."""

    what: str
    probe: Callable[[], object]

    def problem(self, timeout: float = TIMEOUT) -> str | None:
        """Why it cannot be reached, in one line without credentials; None when it answers."""
        from django_prodserver.backends.worker import unreachable

        problem = unreachable(self.probe, timeout)
        return None if problem is None else mask_urls(f"cannot reach {self.what}: {problem}")


class Reach:
    """The latest verdict on a :class:`Target`, refreshed by a daemon thread of the current process.

    The thread starts on the first :meth:`verdict` in each process, so a worker whose loop runs
    in a forked child (Django-Q2's sentinel) checks from that child, where its heartbeat is written.
    """

    def __init__(self, target: Target, interval: float) -> None:
        self.target = target
        self.interval = interval
        # The worker reached its target before it started (its preflight, or Celery's
        # worker_ready), so it is ready until a check says otherwise.
        self._reason: str | None = None
        self._pid = 0
        self._stop = threading.Event()

    def verdict(self) -> str | None:
        """Why the worker is not ready, or None when it is."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._stop = threading.Event()
            threading.Thread(target=self._run, name="prodserver-readiness", daemon=True).start()
        return self._reason

    def _run(self) -> None:
        stop, main = self._stop, threading.main_thread()
        timeout = min(TIMEOUT, max(self.interval, 1.0))
        while main.is_alive():
            self._reason = self.target.problem(timeout)
            if stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()

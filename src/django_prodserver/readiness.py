"""The readiness verdict: at most one run of the checks per interval per process, each bounded.

Probes are unauthenticated and answer any Host, so anyone who reaches the port can send them
as fast as they like. Running the checks per request would let a probe flood open a database
connection per request (exhausting ``max_connections``) and a black-holed database would pin
every worker. So one verdict is shared by every probe to this process for ``READY_CACHE``
seconds; while it is being computed, other probes wait for it instead of starting their own
(single flight). Each check runs in its own thread and counts as failed after
``READY_TIMEOUT`` seconds; a check still stuck from an earlier run is not started again, so a
hung database costs at most one thread per check.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django_prodserver.conf import health_settings

if TYPE_CHECKING:
    from django_prodserver.health import Check

logger = logging.getLogger("django_prodserver.health")

Clock = Callable[[], float]


class Verdicts:
    def __init__(
        self,
        checks: Sequence[Check],
        cache_seconds: float,
        timeout: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.checks = tuple(checks)
        self.cache_seconds = cache_seconds
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._results: dict[str, bool] | None = None
        self._at = 0.0
        self._pending: threading.Event | None = None
        #: Check name → the thread still running it (it outlived its timeout).
        self._stuck: dict[str, threading.Thread] = {}

    def results(self) -> dict[str, bool]:
        """Check name → passed, from the shared verdict (computing it when it is too old)."""
        with self._lock:
            fresh = self._results is not None and self._clock() - self._at < self.cache_seconds
            if fresh and self._results is not None:
                return self._results
            leader = self._pending is None
            if leader:
                self._pending = threading.Event()
            pending = self._pending
        assert pending is not None  # noqa: S101 - set above under the lock
        if not leader:
            # The leader is bounded by the timeout; the margin covers thread start-up.
            pending.wait(self.timeout + 1.0)
            with self._lock:
                return self._results if self._results is not None else self._unknown()
        try:
            results = self._run()
        finally:
            with self._lock:
                self._pending = None
            pending.set()
        with self._lock:
            self._results, self._at = results, self._clock()
        return results

    def _unknown(self) -> dict[str, bool]:
        return {check.name: False for check in self.checks}

    def _run(self) -> dict[str, bool]:
        outcome: dict[str, tuple[bool, str]] = {}
        threads: dict[str, threading.Thread] = {}
        for check in self.checks:
            stuck = self._stuck.get(check.name)
            if stuck is not None and stuck.is_alive():
                outcome[check.name] = (False, "its previous run has not returned yet")
                continue
            thread = threading.Thread(
                target=_run_one, args=(check, outcome), name=f"readiness {check.name}", daemon=True
            )
            thread.start()
            threads[check.name] = thread
        deadline = self._clock() + self.timeout
        results: dict[str, bool] = {}
        for check in self.checks:
            running = threads.get(check.name)
            if running is not None:
                running.join(max(0.0, deadline - self._clock()))
                if running.is_alive():
                    self._stuck[check.name] = running
                    outcome[check.name] = (False, f"no answer within {self.timeout:g} s")
            ok, reason = outcome.get(check.name, (False, "no answer"))
            if not ok:
                logger.warning("Readiness check %s failed: %s", check.name, reason)
            results[check.name] = ok
        return results


def _run_one(check: Check, outcome: dict[str, tuple[bool, str]]) -> None:
    try:
        ok = check.func() is not False
        found = (ok, "" if ok else "returned False")
    except Exception as exc:
        found = (False, f"{type(exc).__name__}: {exc}".strip())
    finally:
        # Django's connections belong to the thread that opened them: close them here, or
        # every run would leave one open connection per database behind.
        from django.db import connections

        connections.close_all()
    outcome.setdefault(check.name, found)


def shared(config: health_settings.HealthConfig | None = None) -> Verdicts:
    """This process' verdicts for the configured checks (one set per process, after a fork too)."""
    config = config or health_settings.health()
    return _shared(config, os.getpid())


@functools.lru_cache(maxsize=8)
def _shared(config: health_settings.HealthConfig, pid: int) -> Verdicts:
    from django_prodserver.health import resolve_checks

    checks = resolve_checks(config.ready_checks)
    return Verdicts(checks, config.ready_cache, config.ready_timeout)

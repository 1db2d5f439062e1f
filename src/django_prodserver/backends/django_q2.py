"""Django-Q2: its cluster (``manage.py qcluster``), configured by ``Q_CLUSTER``.

ARGS are ``qcluster``'s own options (``run-once``, ``name``); workers, timeouts and the broker
are ``Q_CLUSTER`` settings, which Django-Q2 reads itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from typing import TYPE_CHECKING, Any

from django_prodserver.backends.worker import (
    ManagementCommandBackend,
    database,
    require_tables,
    unreachable,
)
from django_prodserver.errors import StartupError
from django_prodserver.reach import Target

if TYPE_CHECKING:
    from django_prodserver.heartbeat import Heartbeat


class DjangoQ2Worker(ManagementCommandBackend):
    program = "qcluster"
    module = "django_q"
    extra = "django-q2"
    distribution = "Django-Q2"
    app_name = "django_q"

    def run(self, argv: list[str]) -> int:
        """Start the cluster with SIGTERM blocked in its sentinel (and restored in its workers).

        Django-Q2 stops cleanly when SIGTERM reaches the main process. When it reaches every
        process (systemd's default KillMode, Heroku), the sentinel dies in the middle of its
        wait and the main process then hangs forever in ``stop()``. The sentinel (and the
        pusher and monitor it forks) inherit the blocked signal from this process, which forks
        the sentinel while the block is on, so only the main process acts on SIGTERM; they are
        stopped through Django-Q2's own events. Workers unblock it, because Django-Q2 stops a
        worker that exceeds its timeout with SIGTERM.
        """
        from django_q.signals import post_spawn

        post_spawn.connect(_unblock_sigterm, dispatch_uid="django_prodserver.unblock_sigterm")
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            status = super().run(argv)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        # qcluster returns once the sentinel runs; the cluster lives on in it. Wait here (as
        # the interpreter's exit would) so the heartbeat is removed only when it has stopped.
        for child in multiprocessing.active_children():
            child.join()
        return status

    def heartbeat_when_alive(self, heart: Heartbeat) -> None:
        """Beat from the sentinel's guard loop, which checks and restarts the workers each cycle.

        The loop saves the cluster's status once per cycle (``Stat(self).save()``); the
        heartbeat is written beside it, in the sentinel's process, so it stops when that loop
        stops (frozen, hung, or gone), not merely when this waiting main process does.
        """
        from django_q import cluster

        # Wrapped in place, not subclassed: save() pickles the status into the broker's cache
        # (for qmonitor, qinfo and the admin), and an instance of a class defined in here cannot
        # be pickled: every cycle would log an error and no status would be saved.
        stat: Any = cluster.Stat  # type: ignore[attr-defined]
        save = stat.save

        def beating_save(self: Any) -> None:
            with contextlib.suppress(OSError):
                heart.beat_if_due()
            save(self)

        stat.save = beating_save

    def readiness_target(self) -> Target:
        """The broker the cluster takes tasks from: the ORM broker's database, or Redis and the like."""
        from django_q.brokers.orm import ORM
        from django_q.brokers.redis_broker import Redis
        from django_q.models import OrmQ

        broker = self.broker()
        if isinstance(broker, ORM):
            return database(OrmQ, "Django-Q2")
        if isinstance(broker, Redis):
            # The client itself: Django-Q2's ping() also logs a line of its own.
            return Target(f"Django-Q2's broker at {_redis_url(broker)}", broker.connection.ping)
        return Target(f"Django-Q2's broker at {type(broker).__name__}", broker.ping)

    def broker(self) -> Any:
        """Django-Q2's own choice of broker, from ``Q_CLUSTER``.

        Its ORM broker connects to the database as it is created, so a database that is down
        fails here: that is said in one line, as every other unreachable broker is.
        """
        from django.db import DatabaseError
        from django_q.brokers import get_broker
        from django_q.models import OrmQ

        try:
            return get_broker()
        except DatabaseError:
            require_tables(self.name, OrmQ, "Django-Q2")  # raises, naming the database
            raise

    def preflight(self) -> None:
        """Fail in one line when the broker is down; the cluster would log and exit with a traceback."""
        from django_q.brokers.orm import ORM
        from django_q.models import OrmQ, Task

        if isinstance(self.broker(), ORM):
            require_tables(self.name, OrmQ, "Django-Q2")
            return
        require_tables(self.name, Task, "Django-Q2")
        target = self.readiness_target()
        problem = unreachable(target.probe)
        if problem:
            raise StartupError(
                f"Process {self.name!r}: cannot reach {target.what}: {problem}; "
                "start it, or point Q_CLUSTER at it ('redis', or 'orm': 'default' to use the database)."
            )


def _redis_url(broker: object) -> str:
    """The Redis server the broker talks to, password hidden."""
    connection = broker.connection  # type: ignore[attr-defined]
    kwargs = connection.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def _unblock_sigterm(**kwargs: Any) -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})

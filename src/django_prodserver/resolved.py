"""What exactly one process will run, and why: the value a backend resolves once per run.

The checks, ``--dry-run``, ``--list``, the start-up notes, ``--healthcheck`` and the exporters
all read this value; none of them re-derives an option from the settings or the environment.
It is immutable, so a question it cannot answer is a field to add here, never a second
resolver beside it.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from django_prodserver.records import field, record

if TYPE_CHECKING:
    from django_prodserver.args import Setting

Kind = Literal["server", "worker"]
Interface = Literal["wsgi", "asgi"]


@record
class Row:
    """One line of ``--dry-run``: an option as the program receives it, and where it came from."""

    option: str
    source: str
    origin: str


@record
class Serving:
    """What a web server serves and where: the facts probes, checks and exports need."""

    #: The application target handed to the server: prodserver's gateway
    #: (``django_prodserver.gateway:wsgi``), which answers the probes ahead of ``project_app``.
    app: str
    interface: Interface
    #: TCP (host, port) pairs it binds; empty for Unix sockets and file descriptors.
    listen: tuple[tuple[str, int], ...]
    #: Whether the server speaks TLS on its port (a certificate is configured).
    tls: bool
    #: The worker count, when the program has workers and something sets it.
    workers: int | None = None
    #: Why prodserver chose the count ("2 CPUs (cgroup quota): 2 x 2 + 1"), None when the user did.
    workers_why: str | None = None
    #: Gunicorn's worker class (it decides the interface); None for other servers.
    worker_class: str | None = None
    #: The project's own application behind the gateway, e.g. ``mysite.wsgi:application``.
    project_app: str = ""


@record
class Resolved:
    name: str
    program: str
    kind: Kind
    #: What the program receives, in order (options, then positional arguments).
    argv: tuple[str, ...]
    #: The equivalent shell command, for ``--list``, ``--dry-run`` and the exporters.
    command: tuple[str, ...]
    #: Every option with its value and its source, by the program's option dest.
    options: Mapping[str, Setting] = field(default_factory=dict)
    rows: tuple[Row, ...] = ()
    #: The program's own config file in play (its options then win over our defaults).
    config_file: str | None = None
    serving: Serving | None = None
    #: One line for each choice prodserver made on the user's behalf, printed at start.
    notes: tuple[str, ...] = ()
    #: Seconds the server keeps serving after SIGTERM while readiness fails (``DRAIN``); 0: off.
    drain: float = 0.0
    #: Seconds the program gives work in flight after the stop signal (after the drain) before
    #: it stops anyway: the resolved value of the option that bounds it (gunicorn's
    #: ``graceful-timeout``, …) or the backend's own fixed budget. None when nothing bounds it
    #: or prodserver cannot read the bound (the program's config file, ARGS as a string).
    graceful_seconds: float | None = None
    #: Where ``graceful_seconds`` comes from (``ARGS['graceful-timeout']``), for the exports.
    graceful_origin: str = ""

    def option(self, dest: str | None) -> Setting | None:
        """The final setting of one option, or None when nothing sets it."""
        return self.options.get(dest) if dest else None

    def shell_command(self) -> str:
        """The command for people to read (``--list``, ``--dry-run``): secrets masked.

        ``command`` is the exact one, for what runs it (an export)."""
        from django_prodserver.masking import mask_argv

        return shlex.join(mask_argv(self.command))

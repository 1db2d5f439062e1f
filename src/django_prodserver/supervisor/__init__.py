"""``prodserver web worker`` and ``prodserver --all``: several processes, one command.

Each process runs as its own child (``manage.py prodserver NAME``), so it is exactly what
``prodserver NAME`` runs alone, and a crash of one cannot take the others down.
:mod:`.manager` decides (restart, backoff, crash loop, one shutdown deadline, exit code),
:mod:`.loop` feeds it events (:mod:`.slots` defines them), :mod:`.process` starts children,
:mod:`.printer` prefixes their output and :mod:`.sink` writes it without blocking,
:mod:`.policy` holds the rules as plain functions, and :mod:`.child` runs in each child, so a
stop signal that reaches it twice counts once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from django_prodserver.conf.processes import SETTING, ProcessConfig, get_process
from django_prodserver.errors import ConfigurationError
from django_prodserver.records import replace


def plan(names: Sequence[str], overrides: Sequence[str]) -> list[ProcessConfig]:
    """The processes to run, in the order given, refusing what cannot work before starting any."""
    if overrides:
        shown = " ".join(overrides)
        raise ConfigurationError(
            f"Options for the program ({shown}) apply to one process: run 'prodserver NAME {shown}', "
            f"or put them in {SETTING}[NAME]['ARGS'] to run several processes together."
        )
    processes = [get_process(name) for name in dict.fromkeys(names)]
    if os.name != "posix":
        raise ConfigurationError(
            "Running several processes together needs a POSIX system (process groups and "
            "signals); start each with 'prodserver NAME' under your platform's service manager."
        )
    return processes


def supervise(
    names: Sequence[str],
    overrides: Sequence[str],
    options: Mapping[str, Any],
    stream: BinaryIO | None = None,
) -> int:
    """Run the named processes together until they stop; return the exit status."""
    # Imported here: every process started alone imports this package (for .child) on its way
    # to starting its server, and needs none of the supervisor's own machinery or settings.
    from django_prodserver.conf import health_settings, supervisor_settings
    from django_prodserver.supervisor.loop import Loop
    from django_prodserver.supervisor.printer import Printer, use_colour
    from django_prodserver.supervisor.process import child_argv, child_environment

    processes = plan(names, overrides)
    timing = supervisor_settings.supervisor()
    # A draining web server answers for DRAIN seconds before its graceful stop even begins.
    drain = max(process.drain for process in processes)
    timing = replace(timing, shutdown_timeout=timing.shutdown_timeout + drain)
    if stream is None:
        # The printer writes to the file descriptor itself: what print() left goes out first.
        sys.stdout.flush()
        stream = sys.stdout.buffer
    colour = use_colour(
        stream, no_color=bool(options.get("no_color")), force_color=bool(options.get("force_color"))
    )
    printer = Printer(stream, [p.name for p in processes], colour=colour)
    loop = Loop(
        processes,
        timing,
        printer,
        argv=lambda process: child_argv(process.name, options),
        env=child_environment(shutdown_timeout=timing.shutdown_timeout),
    )
    # 'prodserver --healthcheck' without a name then checks every long-running process.
    from django_prodserver import heartbeat

    manifest = heartbeat.write_manifest(
        health_settings.health(), [p.name for p in processes if not p.oneshot]
    )
    try:
        return loop.run()
    finally:
        if manifest is not None:
            manifest.unlink(missing_ok=True)


__all__ = ["plan", "supervise"]

"""Python's cyclic garbage collector, paused while prodserver prepares a start.

Each pass of the collector rescans every object Django has loaded by then, to find the few
hundred unreachable ones a start leaves behind, and ``startup.start()`` freezes everything
loaded before the server runs anyway. Paused, a start takes measurably less time
(benchmarks/README.md). The pause begins as early as prodserver can tell that this process
is a start: when Django creates this app's config for a command line that runs one of its
commands (``manage.py prodserver web``), before the project's models are imported; otherwise
(``call_command``) when the command executes. It ends before anything runs for long: the
server, the supervisor, a warm-up, or the command's return.

Only a pause made here is undone: a project that turned the collector off in its settings,
its ``manage.py`` or its server's hooks keeps it off. (One that turns it off in an app's
``ready()``, after Django created this app's config, gets it back on at the start.)

A process that ``multiprocessing`` spawns (hypercorn's workers, a reloader, a pool under the
``forkserver`` method) inherits the command line but runs no command, so nothing would
resume the collector there: it is never paused in such a child.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

#: The commands that start processes (3.x's ``server`` and ``worker`` included); a Celery
#: worker that must re-execute itself does so only when started by one of them.
COMMANDS = frozenset({"prodserver", "server", "worker"})
#: What runs Django's management utility from a command line, by file name.
_UTILITIES = frozenset({"manage.py", "django-admin", "django-admin.py"})
#: ``python -m django``: the path ends in this.
_DJANGO_MAIN = os.path.join("django", "__main__.py")


class _Pause:
    #: Whether pause() turned the collector off, so that resume() turns it back on.
    made_here = False


def starts_a_process(argv: Sequence[str]) -> bool:
    """Whether ``argv`` runs one of prodserver's commands through Django's management utility.

    The program is checked as well as the command name, so that a test runner or script that
    merely receives ``worker`` as its first argument is never affected."""
    if len(argv) < 2 or argv[1] not in COMMANDS or _multiprocessing_child():
        return False
    program = str(argv[0])
    return os.path.basename(program) in _UTILITIES or program.endswith(os.sep + _DJANGO_MAIN)


def _multiprocessing_child() -> bool:
    """Whether ``multiprocessing`` started this process (its ``sys.argv`` is the parent's)."""
    # Not imported: not such a child (the spawn and forkserver bootstraps import it first).
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing is not None and multiprocessing.parent_process() is not None


def pause() -> None:
    """Turn the collector off, unless it is off already (by this module or by the project)."""
    if gc.isenabled():
        gc.disable()
        _Pause.made_here = True


def resume() -> None:
    """Turn the collector back on if :func:`pause` turned it off."""
    if _Pause.made_here:
        _Pause.made_here = False
        gc.enable()

"""Which processes ``manage.py server`` and ``manage.py worker`` run (3.x's two commands).

A process' kind is its backend class' ``kind``: "server" for what answers HTTP, "worker" for
the rest. ``prodserver`` runs both kinds; each of the two commands only its own, and asking
one for the other's process names the command that runs it.
"""

from __future__ import annotations

from django_prodserver.conf.processes import SETTING, get_process, process_names
from django_prodserver.errors import ConfigurationError, ProdserverError
from django_prodserver.resolved import Kind

#: How a message names a process of each kind.
NOUN: dict[Kind, str] = {"server": "web server", "worker": "worker"}


def kind_of(name: str) -> Kind | None:
    """The kind of the named process; None when its entry or BACKEND is broken.

    A broken process counts as either kind, so the command that is asked for it reports
    its real problem instead of a kind mismatch.
    """
    from django_prodserver.loading import backend_class

    try:
        return backend_class(get_process(name)).kind
    except ProdserverError:
        return None


def names_of(kind: Kind | None) -> list[str]:
    """The configured process names of this kind (every name for None), in setting order."""
    names = process_names()
    if kind is None:
        return names
    return [name for name in names if kind_of(name) in (kind, None)]


def require(kind: Kind | None, names: list[str]) -> None:
    """Refuse, in one line, a process of the other kind, naming the command that runs it."""
    if kind is None:
        return
    for name in names:
        get_process(name)  # an unknown name says so, with the configured ones
        found = kind_of(name)
        if found is not None and found != kind:
            raise ConfigurationError(
                f"Process {name!r} is a {NOUN[found]}, not a {NOUN[kind]}: "
                f"start it with 'manage.py {found} {name}'."
            )


def first(kind: Kind | None) -> list[str]:
    """The process a command runs when given no name: the first one of its kind.

    ``server`` and ``worker`` pass over one-shot steps: a release step (``migrate``) comes
    first in many settings, and is never what ``manage.py worker`` alone should run.
    ``prodserver`` keeps 2.x's rule, the first process.
    """
    names = names_of(kind)
    if kind is not None:
        names = [name for name in names if not get_process(name).oneshot] or names
    if not names and kind is not None:
        other: Kind = "worker" if kind == "server" else "server"
        configured = ", ".join(map(repr, process_names()))
        raise ConfigurationError(
            f"No {NOUN[kind]} in {SETTING} (configured: {configured}); "
            f"'manage.py {other}' starts a {NOUN[other]}."
        )
    return names[:1]

"""Short backend names (``"BACKEND": "gunicorn"``) and plug-ins registered by other packages.

A BACKEND without a dot or colon is a name: first ours, then the entry points of the
``django_prodserver.backends`` group, so a task-queue package can ship a backend its users
name in one word. Either way the name stands for one dotted path, which ``--list``,
``--dry-run`` and the docs show next to it.
"""

from __future__ import annotations

import difflib

GROUP = "django_prodserver.backends"

_B = "django_prodserver.backends"

#: Our programs by name; the docs' backend table lists the same.
BUILTIN: dict[str, str] = {
    "gunicorn": f"{_B}.gunicorn.GunicornServer",
    "gunicorn-uvicorn": f"{_B}.gunicorn.GunicornUvicornServer",
    "uvicorn": f"{_B}.uvicorn.UvicornServer",
    "uvicorn-wsgi": f"{_B}.uvicorn.UvicornWSGIServer",
    "granian-asgi": f"{_B}.granian.GranianASGIServer",
    "granian-wsgi": f"{_B}.granian.GranianWSGIServer",
    "waitress": f"{_B}.waitress.WaitressServer",
    "hypercorn": f"{_B}.hypercorn.HypercornServer",
    "daphne": f"{_B}.daphne.DaphneServer",
    "uwsgi": f"{_B}.uwsgi.UWSGIServer",
    "celery-worker": f"{_B}.celery.CeleryWorker",
    "celery-beat": f"{_B}.celery.CeleryBeat",
    "celery-flower": f"{_B}.celery.CeleryFlower",
    "django-tasks": f"{_B}.django_tasks.DjangoTasksWorker",
    "django-q2": f"{_B}.django_q2.DjangoQ2Worker",
    "management-command": f"{_B}.command.ManagementCommand",
    "runserver": f"{_B}.dev.django_runserver.DjangoRunserver",
    "daphne-runserver": f"{_B}.dev.daphne.DaphneRunserver",
    "runserver-plus": f"{_B}.dev.werkzeug.WerkzeugRunserver",
}


def is_name(backend: str) -> bool:
    return "." not in backend and ":" not in backend


def is_ours(backend: str) -> bool:
    """Whether BACKEND is one of our classes, by short name or by path (flat, 3.x or with a colon)."""
    return backend in BUILTIN or backend.replace(":", ".").startswith(f"{_B}.")


def plugins() -> dict[str, str]:
    """Entry points of the ``django_prodserver.backends`` group: name → ``module:Class``.

    Read only when a name is not one of ours: importing ``importlib.metadata`` and scanning
    every installed distribution costs a start more than the rest of this module.
    """
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=GROUP) if ep.name not in BUILTIN}


def known() -> dict[str, str]:
    return {**BUILTIN, **plugins()}


def path_of(name: str) -> str | None:
    """The dotted path a short name stands for; None when no backend has that name."""
    return BUILTIN.get(name) or plugins().get(name)


def suggest(name: str) -> list[str]:
    return difflib.get_close_matches(name, known(), n=3, cutoff=0.6)


def name_of(path: str) -> str | None:
    """The short name of a dotted path, for showing both spellings."""
    wanted = path.replace(":", ".")
    if wanted.startswith(f"{_B}."):  # ours: no need to read every distribution's entry points
        return next((name for name, target in BUILTIN.items() if target == wanted), None)
    return next((name for name, target in known().items() if target.replace(":", ".") == wanted), None)


def spellings(backend: str) -> str:
    """``gunicorn (django_prodserver.backends.gunicorn.GunicornServer)``, or the path and its name."""
    if is_name(backend):
        path = path_of(backend)
        return f"{backend} ({path})" if path else backend
    name = name_of(backend)
    return f"{backend} ({name})" if name else backend

"""Find the project's WSGI/ASGI application as the ``module:attribute`` target servers expect.

``startproject`` writes ``WSGI_APPLICATION = "mysite.wsgi.application"`` (dotted, no colon)
and no ``ASGI_APPLICATION``; the ASGI app lives in the ``asgi.py`` beside ``wsgi.py``.
"""

from __future__ import annotations

from django.conf import settings

from django_prodserver.errors import ApplicationNotFound
from django_prodserver.importing import module_exists


def to_target(dotted: str) -> str:
    """``mysite.wsgi.application`` → ``mysite.wsgi:application`` (a colon path is kept)."""
    if ":" in dotted:
        return dotted
    module, _, attr = dotted.rpartition(".")
    return f"{module}:{attr}" if module else dotted


def wsgi_target(process: str) -> str:
    dotted = getattr(settings, "WSGI_APPLICATION", None)
    if not dotted:
        raise ApplicationNotFound(
            f"Process {process!r} serves the WSGI application, but WSGI_APPLICATION is not set: "
            "add WSGI_APPLICATION = 'mysite.wsgi.application' to your settings (or set 'APP')."
        )
    return to_target(dotted)


def asgi_target(process: str) -> str:
    dotted = getattr(settings, "ASGI_APPLICATION", None)
    if dotted:
        return to_target(dotted)
    wsgi = getattr(settings, "WSGI_APPLICATION", None)
    if wsgi:
        module = to_target(wsgi).partition(":")[0]
        package = module.rpartition(".")[0]
        candidate = f"{package}.asgi" if package else "asgi"
        if module_exists(candidate):
            return f"{candidate}:application"
        hint = f"create {candidate.replace('.', '/')}.py (as startproject does) or set ASGI_APPLICATION"
    else:
        hint = "set ASGI_APPLICATION = 'mysite.asgi.application' in your settings"
    raise ApplicationNotFound(
        f"Process {process!r} serves the ASGI application, but none was found: {hint} (or set 'APP')."
    )

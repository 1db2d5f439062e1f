"""Which request paths the project wired to prodserver's probes, read from its own settings.

A project wires the probes one of two documented ways: ``HealthCheckMiddleware`` anywhere in
``MIDDLEWARE``, or ``path("", include("django_prodserver.urls"))`` in its URLconf. The
application prodserver hands the server (gateway.py) answers exactly these paths ahead of
Django; ``--dry-run`` and the deploy check describe them. A path the project's URLconf routes
to a view of its own is never taken over: the project answers it as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from django_prodserver import health
from django_prodserver.conf import health_settings

#: The module every web server is handed; never imported here (it loads the project's app).
GATEWAY = "django_prodserver.gateway"
#: The variable that names the project's application for the gateway.
GATEWAY_ENV = "DJANGO_PRODSERVER_APP"
#: The variable that names the process, so the gateway's one error can say which it is.
PROCESS_ENV = "DJANGO_PRODSERVER_PROCESS"
#: The names django_prodserver.urls gives its two views.
URL_NAMES: dict[health.Probe, str] = {"liveness": "prodserver-liveness", "readiness": "prodserver-readiness"}
URL_INCLUDE = 'path("", include("django_prodserver.urls"))'


def middleware_wired() -> bool:
    return health.MIDDLEWARE in [str(m) for m in getattr(settings, "MIDDLEWARE", None) or []]


def routes(config: health_settings.HealthConfig | None = None) -> dict[str, health.Probe]:
    """Request path → probe, for every path (with and without its slash) wired to a probe."""
    config = config or health_settings.health()
    middleware = middleware_wired()
    views: dict[health.Probe, Callable[..., Any]] = {
        "liveness": health.liveness,
        "readiness": health.readiness,
    }
    configured: dict[health.Probe, str] = {
        "liveness": config.liveness_path,
        "readiness": config.readiness_path,
    }
    found: dict[str, health.Probe] = {}
    for probe, path in configured.items():
        for base in {path.rstrip("/"), _reversed(URL_NAMES[probe])} - {None}:
            assert base is not None  # noqa: S101 - None was just removed
            for variant in (base, base + "/"):
                view = _view(variant)
                ours = view is views[probe]
                # The middleware answers its own paths wherever the URLconf sends nothing.
                if ours or (middleware and view is None and base == path.rstrip("/")):
                    found[variant] = probe
    return found


def _reversed(name: str) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name).rstrip("/")
    except NoReverseMatch:
        return None


def _view(path: str) -> Callable[..., Any] | None:
    from django.urls import Resolver404, resolve

    try:
        return resolve(path).func
    except Resolver404:
        return None


#: Servers that write their access log themselves, past Python's logging: probes stay in it.
LOGS_PROBES = frozenset({"daphne", "uwsgi"})


def describe(found: dict[str, health.Probe], program: str) -> str:
    """One line for ``--dry-run``: how the probes will be answered."""
    if not found:
        return (
            "probes: none wired; add " + URL_INCLUDE + " to your URLconf (or "
            f"{health.MIDDLEWARE!r} to MIDDLEWARE) for /healthz/ and /readyz/"
        )
    paths = sorted({p if p.endswith("/") else p + "/" for p in found})
    how = "HealthCheckMiddleware" if middleware_wired() else "the URL include"
    logged = (
        f"{program} writes every probe to its access log"
        if program in LOGS_PROBES
        else "successful probes are left out of the access log"
    )
    return (
        f"probes: {', '.join(paths)} ({how}) answered by prodserver ahead of Django, past "
        f"ALLOWED_HOSTS and SECURE_SSL_REDIRECT; {logged}"
    )

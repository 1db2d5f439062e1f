"""Liveness and readiness probes: the checks behind them and the answers they give.

Liveness says "this process answers" and touches nothing else, so a database outage does not
make the orchestrator restart every healthy web process. Readiness runs the checks named in
``PRODSERVER_HEALTH['READY_CHECKS']`` (at most once per ``READY_CACHE`` seconds, each bounded
by ``READY_TIMEOUT``: see readiness.py) and answers 503 when one fails, so the load balancer
stops sending traffic until it passes again. The body names each check with "ok" or "error";
the reason is logged, not returned, because probes skip host validation and anyone who can
reach the port can read the body.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse

from django_prodserver.conf.health_settings import HEALTH_SETTING, HealthConfig
from django_prodserver.draining import draining
from django_prodserver.errors import HealthSettingError
from django_prodserver.importing import NotFound, import_path
from django_prodserver.readiness import Verdicts, shared
from django_prodserver.records import record

Probe = Literal["liveness", "readiness"]
MIDDLEWARE = "django_prodserver.middleware.HealthCheckMiddleware"
#: A middleware before ours that validates the Host header or redirects to HTTPS.
HOST_CHECKING_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
)
BUILTINS = ("database", "cache")


@record
class Check:
    name: str
    func: Callable[[], object]


def _database(alias: str) -> Callable[[], object]:
    def check() -> None:
        from django.db import connections

        connection = connections[alias]
        try:
            connection.ensure_connection()
            usable = connection.is_usable()
        except Exception:
            connection.close()
            raise
        if not usable:
            # A persistent connection the server dropped: close it so the next probe
            # reconnects instead of reporting the same dead connection forever.
            connection.close()
            raise ConnectionError(f"database {alias!r}: the open connection is no longer usable")

    return check


def _cache(alias: str) -> Callable[[], object]:
    def check() -> None:
        from django.core.cache import caches
        from django.core.cache.backends.dummy import DummyCache

        cache = caches[alias]
        if isinstance(cache, DummyCache):
            return
        # A fresh key each time: concurrent probes from other workers cannot interfere.
        key = f"django_prodserver:readiness:{uuid.uuid4().hex}"
        cache.set(key, "ok", 30)
        found = cache.get(key)
        cache.delete(key)
        if found != "ok":
            raise ConnectionError(f"cache {alias!r} did not return the value just stored")

    return check


def _aliases(kind: str) -> list[str]:
    if kind == "database":
        from django.db import connections

        return list(connections)
    from django.core.cache import caches

    return list(caches)


def resolve_checks(names: Iterable[str]) -> list[Check]:
    """READY_CHECKS entries → callables; raises :class:`HealthSettingError` naming the bad entry."""
    where = f"{HEALTH_SETTING}['READY_CHECKS']"
    found: list[Check] = []
    for entry in names:
        kind, colon, alias = entry.partition(":")
        if kind in BUILTINS:
            aliases = _aliases(kind)
            if colon and alias not in aliases:
                setting = "DATABASES" if kind == "database" else "CACHES"
                raise HealthSettingError(
                    f"{where}: {entry!r} names no alias in {setting}; configured: "
                    f"{', '.join(map(repr, aliases)) or 'none'}."
                )
            make = _database if kind == "database" else _cache
            found += [Check(f"{kind}:{a}", make(a)) for a in ([alias] if colon else aliases)]
            continue
        if "." not in entry and ":" not in entry:
            raise HealthSettingError(
                f"{where}: {entry!r} is not a check; use 'database', 'cache', 'database:ALIAS', "
                "'cache:ALIAS' or the dotted path of a callable."
            )
        try:
            func = import_path(entry)
        except NotFound as exc:
            raise HealthSettingError(f"{where}: {entry!r} cannot be imported ({exc}).") from None
        if not callable(func):
            raise HealthSettingError(f"{where}: {entry!r} is not callable.")
        found.append(Check(entry, func))
    return found


def probe_for(path: str, config: HealthConfig) -> Probe | None:
    """Which probe ``path`` asks for; the trailing slash is optional, so no redirect ever answers."""
    trimmed = path.rstrip("/")
    if trimmed == config.liveness_path.rstrip("/"):
        return "liveness"
    if trimmed == config.readiness_path.rstrip("/"):
        return "readiness"
    return None


def _json(request: HttpRequest, payload: dict[str, Any], status: int = 200) -> HttpResponse:
    response = JsonResponse(payload, status=status)
    response["Cache-Control"] = "no-store"
    if request.method == "HEAD":
        response.content = b""
    return response


def not_allowed(request: HttpRequest) -> HttpResponse | None:
    if request.method in ("GET", "HEAD"):
        return None
    return HttpResponseNotAllowed(["GET", "HEAD"])


def liveness(request: HttpRequest) -> HttpResponse:
    return not_allowed(request) or _json(request, {"status": "ok"})


def readiness_status(verdicts: Verdicts) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of the readiness probe: only the check ids, never a reason."""
    if draining():
        # After SIGTERM with DRAIN: the balancer stops sending while requests are still served.
        return 503, {"status": "draining", "checks": {}}
    results = verdicts.results()
    ready = all(results.values())
    payload = {
        "status": "ok" if ready else "error",
        "checks": {name: "ok" if ok else "error" for name, ok in results.items()},
    }
    return (200 if ready else 503), payload


def readiness_answer(request: HttpRequest, verdicts: Verdicts) -> HttpResponse:
    refused = not_allowed(request)
    if refused:
        return refused
    status, payload = readiness_status(verdicts)
    response = _json(request, payload, status)
    if status != 200:
        # Already logged per failing check; without this Django logs every failed probe
        # as a server error, which mails ADMINS every few seconds during an outage.
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def readiness(request: HttpRequest) -> HttpResponse:
    return readiness_answer(request, shared())


def local_host_header() -> str:
    """A Host header this project accepts, for requests made from inside (warm-up, --healthcheck)."""
    hosts = [str(h) for h in getattr(settings, "ALLOWED_HOSTS", [])]
    for preferred in ("localhost", "127.0.0.1", "*"):
        if preferred in hosts:
            return "localhost" if preferred == "*" else preferred
    for host in hosts:
        if host and "*" not in host:
            return host.lstrip(".")
    return "localhost"


# ----- system check ---------------------------------------------------------------------


def misplaced_middleware() -> tuple[str, str] | None:
    """(our middleware, the earlier one) when a host-checking middleware runs before ours."""
    middleware = [str(m) for m in getattr(settings, "MIDDLEWARE", None) or []]
    if MIDDLEWARE not in middleware:
        return None
    for earlier in middleware[: middleware.index(MIDDLEWARE)]:
        if _checks_host(earlier):
            return MIDDLEWARE, earlier
    return None


def _checks_host(path: str) -> bool:
    if path in HOST_CHECKING_MIDDLEWARE:
        return True
    try:
        cls = import_path(path)
    except (NotFound, ImportError):
        return False
    bases = tuple(import_path(p) for p in HOST_CHECKING_MIDDLEWARE)
    return isinstance(cls, type) and issubclass(cls, bases)

"""``prodserver --healthcheck [NAME]``: the web process' liveness page, or a worker's heartbeat.

For Docker's ``HEALTHCHECK`` in slim images that have no curl. The address comes from the
same resolved settings the server starts with (ARGS, command line, ``PORT``), so the check
follows the configuration without repeating it; a wildcard bind is probed on loopback.
"""

from __future__ import annotations

import http.client
import ssl
import time

from django_prodserver import heartbeat
from django_prodserver.backends.base import BaseProcessBackend
from django_prodserver.conf import health_settings
from django_prodserver.errors import ProdserverError
from django_prodserver.health import local_host_header
from django_prodserver.wiring import URL_INCLUDE

TIMEOUT = 5.0
#: Answers that mean the probe path reached the project instead of prodserver's probes.
WIRING = (301, 302, 400, 404)
LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}


class Unhealthy(ProdserverError):
    """The process did not answer its liveness probe with 200."""


def check(backend: BaseProcessBackend, *, ready: bool = False) -> str:
    """One line saying the process is healthy: a worker's heartbeat, or a web server's liveness page.

    ``ready``: readiness instead (``--ready``): a worker that cannot reach its broker fails,
    and a web server is asked its readiness page.
    """
    if backend.records_heartbeat:
        return heartbeat.check(backend.name, health_settings.health(), ready=ready)
    health = health_settings.health()
    return probe(backend, path=health.readiness_path if ready else health.liveness_path)


def target(backend: BaseProcessBackend) -> tuple[str, int, bool]:
    """(host, port, tls) to probe, from the process' resolved value."""
    serving = backend.resolve().serving
    if serving is None:
        raise Unhealthy(
            f"{backend.name}: --healthcheck probes web servers and workers that record a heartbeat, "
            f"and {backend.name!r} is neither; name another process, e.g. 'prodserver --healthcheck web'."
        )
    if not serving.listen:
        raise Unhealthy(
            f"{backend.name}: the process listens on no TCP address prodserver can find "
            "(a Unix socket or a file descriptor); probe it with the tool that reaches that socket."
        )
    host, port = serving.listen[0]
    host = host.strip()
    return LOOPBACK.get(host, host).strip("[]"), port, serving.tls


def probe(backend: BaseProcessBackend, timeout: float = TIMEOUT, path: str | None = None) -> str:
    """One line saying the process is healthy; raises :class:`Unhealthy` with the reason."""
    host, port, tls = target(backend)
    path = path or health_settings.health().liveness_path
    shown = f"[{host}]" if ":" in host else host
    url = f"{'https' if tls else 'http'}://{shown}:{port}{path}"
    connection: http.client.HTTPConnection
    if tls:
        # Our own server on loopback: its certificate names the public host, not 127.0.0.1.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(
            "GET", path, headers={"Host": local_host_header(), "User-Agent": "django-prodserver healthcheck"}
        )
        response = connection.getresponse()
        response.read()
    except TimeoutError:
        raise Unhealthy(f"{backend.name}: unhealthy: GET {url} got no answer within {timeout:g} s.") from None
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise Unhealthy(f"{backend.name}: unhealthy: GET {url} failed: {reason}.") from None
    finally:
        connection.close()
    elapsed = (time.monotonic() - started) * 1000
    if response.status != 200:
        hint = (
            f"; are the probes wired? Add {URL_INCLUDE} to your URLconf."
            if response.status in WIRING
            else "."
        )
        raise Unhealthy(f"{backend.name}: unhealthy: GET {url} answered {response.status}{hint}")
    return f"{backend.name}: healthy: GET {url} answered 200 in {elapsed:.0f} ms"

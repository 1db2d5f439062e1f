"""Request a process' ``WARMUP`` URLs in-process, before the server accepts traffic.

The requests go through Django's own request handler in this process, so the URLconf, the
views' modules, templates and caches are loaded once here. Servers that fork their workers
from this process (gunicorn) hand all of that to every worker; the others still get a smoke
test that stops a broken release before it takes traffic. Database connections opened on the
way are closed before the hand-over, with every other one the start opened (startup.py).
"""

from __future__ import annotations

import io
import sys
import time
import traceback
from types import TracebackType
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from django.conf import settings

from django_prodserver.conf.processes import ProcessConfig, WarmupConfig
from django_prodserver.errors import StartupError
from django_prodserver.health import local_host_header

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


class _Result:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.error: ExcInfo | None = None

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.status = int(status.split(" ", 1)[0])
        self.headers = {name.lower(): value for name, value in headers}
        return lambda data: None

    def got_exception(self, sender: Any, **kwargs: Any) -> None:
        info = sys.exc_info()
        if info[0] is not None and info[1] is not None and info[2] is not None:
            self.error = (info[0], info[1], info[2])


def _environ(url: str, host: str) -> dict[str, Any]:
    parts = urlsplit(url)
    secure = bool(getattr(settings, "SECURE_SSL_REDIRECT", False))
    name, _, port = host.partition(":")
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        # WSGI servers pass the raw path decoded as latin-1; Django re-encodes it.
        "PATH_INFO": unquote_to_bytes(parts.path).decode("latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": name,
        "SERVER_PORT": port or ("443" if secure else "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "HTTP_USER_AGENT": "django-prodserver warm-up",
        "wsgi.version": (1, 0),
        # With SECURE_SSL_REDIRECT every plain-http request is a redirect; warm up as https.
        "wsgi.url_scheme": "https" if secure else "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _request(handler: Any, url: str, host: str) -> _Result:
    from django.core.signals import got_request_exception

    result = _Result()
    got_request_exception.connect(result.got_exception, dispatch_uid="django_prodserver.warmup")
    try:
        body = handler(_environ(url, host), result.start_response)
        try:
            for _chunk in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close:
                close()  # sends request_finished, as a server would
    finally:
        got_request_exception.disconnect(dispatch_uid="django_prodserver.warmup")
    return result


def _problem(process: ProcessConfig, url: str, host: str, result: _Result, stderr: Any) -> str | None:
    where = process.setting_path("WARMUP")
    if result.error is not None:
        exc_type, exc, tb = result.error
        # The user's view is broken: they need the real traceback, then our one line.
        stderr.write("".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n"))
        return (
            f"Process {process.name!r}: warm-up request GET {url} raised {exc_type.__name__}: {exc}; "
            f"fix the view or remove {url!r} from {where}."
        )
    if 200 <= result.status < 300:
        return None
    if result.status == 400:
        hint = f" (Host {host!r}: add it to ALLOWED_HOSTS or set {where}['HOST'])"
    elif 300 <= result.status < 400:
        hint = f" (a redirect to {result.headers.get('location', '?')!r}; warm up the final URL)"
    else:
        hint = ""
    return (
        f"Process {process.name!r}: warm-up request GET {url} answered {result.status}{hint}; "
        f"fix the view or the URL in {where}."
    )


def warm_up(process: ProcessConfig, stderr: Any) -> None:
    """Request every URL; raise :class:`StartupError` on the first failure unless ON_ERROR is "warn"."""
    config: WarmupConfig | None = process.warmup
    if config is None:
        return
    from django.core.handlers.wsgi import WSGIHandler

    host = config.host or local_host_header()
    handler = WSGIHandler()
    for url in config.urls:
        started = time.monotonic()
        result = _request(handler, url, host)
        elapsed = (time.monotonic() - started) * 1000
        problem = _problem(process, url, host, result, stderr)
        if problem is None:
            answer = f"answered {result.status} in {elapsed:.0f} ms"
            stderr.write(f"prodserver: {process.name}: warm-up GET {url} {answer}")
        elif config.on_error == "warn":
            stderr.write(f"prodserver: warning: {problem}")
        else:
            raise StartupError(problem)

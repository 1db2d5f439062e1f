"""Answer the liveness and readiness probes before any other middleware runs.

Put it first in ``MIDDLEWARE``. Django validates the Host header lazily, in
``request.get_host()``, which ``SecurityMiddleware`` (for ``SECURE_SSL_REDIRECT``) and
``CommonMiddleware`` call. Answering the probe paths before them means an orchestrator that
probes ``http://10.0.3.7:8000/healthz/`` gets 200 instead of 400 or a redirect to https,
while every other path keeps full host validation. It also skips URL resolution, sessions
and auth, so probes stay cheap. It runs natively under WSGI and ASGI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse

from django_prodserver import health, readiness
from django_prodserver.conf import health_settings


class HealthCheckMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.config = health_settings.health()
        # Resolved once per handler; a bad READY_CHECKS entry is reported by
        # 'manage.py check' (and so before 'prodserver' starts), not per request.
        self.verdicts = readiness.shared(self.config)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        probe = health.probe_for(request.path_info, self.config)
        if probe is None:
            return self.get_response(request)
        return self._answer(request, probe)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        probe = health.probe_for(request.path_info, self.config)
        if probe is None:
            response: Awaitable[HttpResponse] = self.get_response(request)
            return await response
        if probe == "liveness":
            return self._answer(request, probe)
        # Database drivers block: run the checks where Django runs sync views.
        return await sync_to_async(self._answer, thread_sensitive=True)(request, probe)

    def _answer(self, request: HttpRequest, probe: health.Probe) -> HttpResponse:
        if probe == "liveness":
            return health.liveness(request)
        return health.readiness_answer(request, self.verdicts)

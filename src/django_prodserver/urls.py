"""``path("", include("django_prodserver.urls"))``: the probes as views, and the sign to wire them.

Under ``prodserver`` this include is what tells the gateway (gateway.py) to answer the probe
paths ahead of Django, past ALLOWED_HOSTS and SECURE_SSL_REDIRECT. Under a server started
some other way these are ordinary views behind the whole middleware stack, and probes that
send an IP address as Host (Kubernetes, most load balancers) need
:class:`django_prodserver.middleware.HealthCheckMiddleware` first in MIDDLEWARE instead.
"""

from __future__ import annotations

import re

from django.urls import URLPattern, re_path

from django_prodserver import health
from django_prodserver.conf import health_settings
from django_prodserver.errors import HealthSettingError


def _pattern(path: str) -> str:
    # The trailing slash is optional: APPEND_SLASH must never answer a probe with a redirect.
    return "^" + re.escape(path.strip("/")) + "/?$"


def _health() -> health_settings.HealthConfig:
    try:
        return health_settings.health()
    except HealthSettingError:
        # 'manage.py check' names the bad key; importing the URLconf, which
        # Django's own checks do, must not turn that into a traceback.
        return health_settings.HealthConfig()


_config = _health()

urlpatterns: list[URLPattern] = [
    re_path(_pattern(_config.liveness_path), health.liveness, name="prodserver-liveness"),
    re_path(_pattern(_config.readiness_path), health.readiness, name="prodserver-readiness"),
]

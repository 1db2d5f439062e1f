"""``path("", include("django_prodserver.urls"))``: the probes as ordinary views.

These go through the whole middleware stack, so ALLOWED_HOSTS and SECURE_SSL_REDIRECT apply
to them like to any page. Probes that send an IP address as Host (Kubernetes, most load
balancers) need :class:`django_prodserver.middleware.HealthCheckMiddleware` instead.
"""

from __future__ import annotations

import re

from django.urls import URLPattern, re_path

from django_prodserver import conf, health
from django_prodserver.errors import HealthSettingError


def _pattern(path: str) -> str:
    # The trailing slash is optional: APPEND_SLASH must never answer a probe with a redirect.
    return "^" + re.escape(path.strip("/")) + "/?$"


def _health() -> conf.HealthConfig:
    try:
        return conf.health()
    except HealthSettingError:
        # 'manage.py check' names the bad key; importing the URLconf, which
        # Django's own checks do, must not turn that into a traceback.
        return conf.HealthConfig()


_config = _health()

urlpatterns: list[URLPattern] = [
    re_path(_pattern(_config.liveness_path), health.liveness, name="prodserver-liveness"),
    re_path(_pattern(_config.readiness_path), health.readiness, name="prodserver-readiness"),
]

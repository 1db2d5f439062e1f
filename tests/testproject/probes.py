"""URLs, views and checks for the health-probe and warm-up tests (ROOT_URLCONF in those tests).

``/warm/`` counts its hits in this process, so a test can see that the warm-up request ran
once, in the process the server's workers come from, before any request from outside.
``/context/`` names the context variables a request sees, for the serving-context test.
"""

import contextvars
import os
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

from django_prodserver.backends.base import BaseServerBackend
from testproject.urls import urlpatterns as project_urlpatterns

HITS = {"warm": 0}


def warm(request: HttpRequest) -> HttpResponse:
    HITS["warm"] += 1
    return HttpResponse("warmed")


def warm_count(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"hits": HITS["warm"], "pid": os.getpid()})


def warm_db(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("queried")


def boom(request: HttpRequest) -> HttpResponse:
    raise ZeroDivisionError("warm-up found a broken view")


async def context_variables(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"names": sorted(var.name for var in contextvars.copy_context())})


def check_ok() -> None:
    """A custom readiness check that passes."""


def check_false() -> bool:
    return False


class NotAWebServer(BaseServerBackend):
    """A custom backend that serves no HTTP, for ``--healthcheck`` against a non-web process."""

    def start_server(self, *args: Any) -> None:
        raise SystemExit(0)


urlpatterns = [
    path("warm/", warm),
    path("warm/count/", warm_count),
    path("warm/db/", warm_db),
    path("warm/boom/", boom),
    path("context/", context_variables),
    path("", include("django_prodserver.urls")),
    *project_urlpatterns,
]

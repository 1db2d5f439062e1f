"""``/``: a 60-byte JSON answer; ``/gc``: a full collection, answering with the worker's PID."""

import gc
import os

from django.http import HttpRequest, JsonResponse
from django.urls import path


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "message": "hello from the benchmark project"})


def collect(request: HttpRequest) -> JsonResponse:
    # The memory benchmark asks every worker for a full GC before reading its PSS: a
    # collection writes to every tracked object's header, so pages a fork still shares with
    # its parent are copied unless the parent froze them (gc.freeze()) before forking.
    gc.collect()
    return JsonResponse({"pid": os.getpid()})


urlpatterns = [path("", hello), path("gc", collect)]

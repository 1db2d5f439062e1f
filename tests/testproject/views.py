import asyncio
import gc
import os
import sys
import time
from collections.abc import AsyncIterator

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello from testproject")


def whoami(request: HttpRequest) -> JsonResponse:
    """What the server told Django: proves interface, proxy headers and worker pids."""
    return JsonResponse(
        {
            "pid": os.getpid(),
            "remote_addr": request.META.get("REMOTE_ADDR"),
            "secure": request.is_secure(),
            "server_software": request.META.get("SERVER_SOFTWARE", ""),
        }
    )


def collecting(request: HttpRequest) -> JsonResponse:
    """Whether the process serving this request runs the garbage collector (a spawned worker too)."""
    return JsonResponse({"pid": os.getpid(), "collecting": gc.isenabled()})


def slow(request: HttpRequest) -> HttpResponse:
    """Sleeps for ?seconds=N, to keep a request in flight while the server is told to stop."""
    seconds = float(request.GET.get("seconds", "2"))
    # Tests wait for this line before signalling, so the request is known to be in flight.
    print(f"slow view started pid={os.getpid()}", file=sys.stderr, flush=True)
    time.sleep(seconds)
    return HttpResponse(f"slept {seconds}")


async def stream(request: HttpRequest) -> StreamingHttpResponse:
    async def chunks() -> AsyncIterator[str]:
        for number in range(3):
            yield f"chunk {number}\n"
            await asyncio.sleep(0.05)

    return StreamingHttpResponse(chunks(), content_type="text/plain")


async def async_view(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(0)
    return HttpResponse("async hello")

import asyncio
import os

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/home.html", {"pid": os.getpid()})


async def stream(request: HttpRequest) -> StreamingHttpResponse:
    """Streams a few lines slowly: shows an async view served without buffering."""

    async def lines():  # type: ignore[no-untyped-def]
        for number in range(1, 6):
            yield f"line {number}\n"
            await asyncio.sleep(0.2)

    return StreamingHttpResponse(lines(), content_type="text/plain")

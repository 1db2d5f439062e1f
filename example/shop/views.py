import asyncio
import os
import time
import uuid

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from shop.tasks import make_receipt


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/home.html", {"pid": os.getpid()})


async def stream(request: HttpRequest) -> StreamingHttpResponse:
    """Streams a few lines slowly: shows an async view served without buffering."""

    async def lines():  # type: ignore[no-untyped-def]
        for number in range(1, 6):
            yield f"line {number}\n"
            await asyncio.sleep(0.2)

    return StreamingHttpResponse(lines(), content_type="text/plain")


@require_http_methods(["GET", "POST"])
def receipts(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        result = make_receipt.enqueue(order=f"order {int(time.time())}")
        return HttpResponseRedirect(f"{result.id}/")
    return HttpResponse(
        format_html(
            '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            "<button>Make a receipt in the background</button></form>",
            get_token(request),
        )
    )


def receipt(request: HttpRequest, result_id: uuid.UUID) -> HttpResponse:
    try:
        result = make_receipt.get_result(str(result_id))
    except TaskResultDoesNotExist:
        raise Http404("No such task") from None
    if result.status == TaskResultStatus.SUCCESSFUL:
        return HttpResponse(format_html("<p>{}: {}</p>", result.status, result.return_value))
    # Not done yet: the page asks again every second.
    return HttpResponse(format_html('<meta http-equiv="refresh" content="1"><p>{}…</p>', result.status))

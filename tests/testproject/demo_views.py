"""The example project's task pages, kept here word for word (as part of ``shop/views.py``).

``/receipts/`` shows a button; pressing it enqueues ``make_receipt`` and redirects to the
task's page, which refreshes itself until the worker has run the task.
"""

import time
import uuid

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from testproject.demo_tasks import make_receipt


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

"""A URLconf whose own view answers /healthz/, next to prodserver's URL include (ROOT_URLCONF in tests)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from testproject.urls import urlpatterns as project_urlpatterns


def own_healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("the project's own health page")


urlpatterns = [
    path("healthz/", own_healthz),
    path("", include("django_prodserver.urls")),
    *project_urlpatterns,
]

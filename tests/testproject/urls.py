from django.contrib import admin
from django.urls import path

from testproject import views

urlpatterns = [
    path("", views.index),
    path("whoami/", views.whoami),
    path("slow/", views.slow),
    path("stream/", views.stream),
    path("async/", views.async_view),
    path("collecting/", views.collecting),
    path("admin/", admin.site.urls),
]

from django.contrib import admin
from django.urls import path

from shop import views

urlpatterns = [
    path("", views.home, name="home"),
    path("stream/", views.stream, name="stream"),
    path("receipts/", views.receipts, name="receipts"),
    path("receipts/<uuid:result_id>/", views.receipt, name="receipt"),
    path("admin/", admin.site.urls),
]

"""The example project's task URLs (two lines of ``config/urls.py``), as a test URLconf."""

from django.urls import path

from testproject import demo_views

urlpatterns = [
    path("receipts/", demo_views.receipts, name="receipts"),
    path("receipts/<uuid:result_id>/", demo_views.receipt, name="receipt"),
]

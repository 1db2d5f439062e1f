"""A Celery app for the worker-probe benchmark (broker: ``CELERY_BROKER_URL``, default Redis db 15)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproject.settings")

app = Celery("benchproject")
app.config_from_object("django.conf:settings", namespace="CELERY")

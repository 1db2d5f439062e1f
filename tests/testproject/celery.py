"""The test project's Celery app, configured the way the Celery docs set one up for Django.

Settings come from Django's settings (``CELERY_*``, which tests set per run through
``PRODSERVER_TEST_SETTINGS``); the broker from ``CELERY_BROKER_URL`` in the environment.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")

app = Celery("testproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

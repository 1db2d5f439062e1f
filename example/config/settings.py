"""The demo project: a page, an async streaming view and the admin, on SQLite."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
USE_TZ = True
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prodserver",
    "django_tasks",
    "django_tasks_db",
    "shop",
]
MIDDLEWARE = [
    # First: answers /healthz/ and /readyz/ before host validation and the HTTPS redirect.
    "django_prodserver.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DB", BASE_DIR / "db.sqlite3"),
    }
}
# Tasks are rows in the database; the 'worker' process below runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DEMO_PORT = os.environ.get("DEMO_PORT", "8000")

PRODUCTION_PROCESSES = {
    # Runs to completion before the others start (prodserver --all).
    "release": {
        "BACKEND": "django_prodserver.backends.command.ManagementCommand",
        "ARGS": ["migrate", "--noinput"],
        "ONESHOT": True,
    },
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": f"127.0.0.1:{DEMO_PORT}", "workers": "2"},
        # Requested in-process before gunicorn forks its workers: a broken URLconf or
        # template stops the start here instead of answering 500 to the first visitors.
        "WARMUP": ["/"],
    },
    "worker": {
        "BACKEND": "django_prodserver.backends.django_tasks.DjangoTasksWorker",
        "ARGS": {"queue-name": "default", "interval": 0.5},
    },
}

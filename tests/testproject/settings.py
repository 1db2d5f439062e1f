"""Settings for the project the tests start real servers against.

Tests describe the processes (and any other setting) per test through environment
variables, so every test runs the real ``manage.py prodserver`` in a subprocess:
``PRODSERVER_TEST_PROCESSES`` (JSON for PRODUCTION_PROCESSES) and ``PRODSERVER_TEST_SETTINGS``
(JSON of extra settings). ``PRODSERVER_TEST_DB`` is a SQLite path or a postgres:// URL.
"""

import faulthandler
import json
import os
import signal
from pathlib import Path
from urllib.parse import urlparse

# A worker test that times out sends SIGUSR1 to the worker's processes: each one prints the
# stack of every thread, so the failure shows where it waits. (Celery installs its own
# handler for this signal, which does the same.)
faulthandler.register(signal.SIGUSR1, all_threads=True)

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# The project with probes wired (the URL include); testproject.urls is the same without them.
ROOT_URLCONF = "testproject.probes"
WSGI_APPLICATION = "testproject.wsgi.application"
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
    "testproject",
]
MIDDLEWARE = [
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


def _database(url: str) -> dict[str, object]:
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlparse(url)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/") or "test",
            "USER": parts.username or "postgres",
            "PASSWORD": parts.password or "",
            "HOST": parts.hostname or "127.0.0.1",
            "PORT": parts.port or 5432,
        }
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": url or str(BASE_DIR / "test.sqlite3")}


DATABASES = {"default": _database(os.environ.get("PRODSERVER_TEST_DB", ""))}

PRODUCTION_PROCESSES = json.loads(
    os.environ.get(
        "PRODSERVER_TEST_PROCESSES",
        '{"web": {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer", "ARGS": {}}}',
    )
)
if PRODUCTION_PROCESSES is None:
    del PRODUCTION_PROCESSES

globals().update(json.loads(os.environ.get("PRODSERVER_TEST_SETTINGS", "{}")))

# Each test gets heartbeat files of its own (conftest.py): with the default directory, shared
# by every test on the machine, a supervisor started by one test would be found by another's
# '--healthcheck' with no name.
_health = globals().get("PRODSERVER_HEALTH", {})
if os.environ.get("PRODSERVER_TEST_HEARTBEAT_DIR") and isinstance(_health, dict):  # not a malformed one
    PRODSERVER_HEALTH = {"HEARTBEAT_DIR": os.environ["PRODSERVER_TEST_HEARTBEAT_DIR"], **_health}

"""Every check id prodserver reports, declared once, with the title and the hint that gives the fix.

The ids are written nowhere else (a test says so): the checks in :mod:`.checks` report them,
and the docs' checks table (docs/configuration.md) is compared with :data:`ALL`. An error
found by the code that starts a process gets its id from its class (:data:`ERROR_IDS`).
"""

from __future__ import annotations

from django_prodserver.errors import (
    AppImportError,
    ApplicationNotFound,
    BackendImportError,
    ConfigurationError,
    HealthSettingError,
    NothingConfigured,
    OptionError,
    PlatformValueError,
    ProdserverError,
    ProgramNotInstalled,
    StartupError,
    WorkerSetupError,
)
from django_prodserver.records import record


@record
class CheckId:
    id: str
    #: What the check is about, one line (the docs' checks table is built from it).
    title: str
    #: How to fix it; shown as Django's "HINT:" line.
    hint: str
    #: True: it depends on this machine or on the deploy, so only ``check --deploy``,
    #: ``prodserver --check`` and the start report it; plain ``check`` never does.
    deploy: bool = False


E001 = CheckId(
    "prodserver.E001",
    "PRODUCTION_PROCESSES is missing or malformed, or names an unknown process.",
    "Each entry maps a process name to a dict with 'BACKEND' (a dotted path) and optional keys "
    "such as 'ARGS' and 'APP'; docs/configuration.md lists them all.",
)
E002 = CheckId(
    "prodserver.E002",
    "A process' BACKEND cannot be imported, is not a backend class, or defines no start_server.",
    "Set 'BACKEND' to the dotted path of a subclass of "
    "django_prodserver.backends.base.BaseServerBackend that defines start_server(*args), e.g. "
    "'django_prodserver.backends.gunicorn.GunicornServer'.",
)
E003 = CheckId(
    "prodserver.E003",
    "The program a backend runs is not installed.",
    "Install the extra the message names, e.g. pip install 'django-prodserver[gunicorn]', in the "
    "environment that runs manage.py.",
    deploy=True,
)
E004 = CheckId(
    "prodserver.E004",
    "An ARGS key or value (or an environment value it derives from) is rejected by the program's own parser.",
    "Use the option names and values the program itself accepts (its --help lists them); None "
    "leaves an option at the program's default.",
)
E005 = CheckId(
    "prodserver.E005",
    "A web process cannot find the WSGI/ASGI application it serves.",
    "Set WSGI_APPLICATION (WSGI servers) or ASGI_APPLICATION, or keep the asgi.py that startproject "
    "writes next to wsgi.py (ASGI servers); or give the process an 'APP'.",
)
E006 = CheckId(
    "prodserver.E006",
    "A worker's 'APP' (e.g. the Celery application) cannot be imported.",
    "Set 'APP' to the import path of the application object, e.g. 'mysite.celery:app', and make "
    "sure that module imports.",
)
E007 = CheckId(
    "prodserver.E007",
    "A problem found just before starting (address in use, service unreachable).",
    "Fix what the message names; this is checked again each time the process starts.",
    deploy=True,
)
E008 = CheckId(
    "prodserver.E008",
    "A backend reported a problem with its process.",
    "Fix what the message names; the backend's documentation lists its settings.",
)
E010 = CheckId(
    "prodserver.E010",
    "A worker's Django app is not in INSTALLED_APPS, or the task backend it runs has no worker.",
    "Add the app the message names to INSTALLED_APPS (then run 'manage.py migrate'), or point the "
    "worker at a task backend it can run.",
)
E012 = CheckId(
    "prodserver.E012",
    "A platform variable of this machine (PORT, WEB_CONCURRENCY, FORWARDED_ALLOW_IPS, "
    "GUNICORN_CMD_ARGS, a server's own UVICORN_*/GRANIAN_*) has a value the server cannot use.",
    "Set the variable the message names to a value it allows, or unset it where the process runs.",
    deploy=True,
)
W001 = CheckId(
    "prodserver.W001",
    "A web process listens on all interfaces while DEBUG is True.",
    "Set DEBUG = False in production settings; DEBUG pages show settings and source code to "
    "anyone who can reach the port.",
    deploy=True,
)
W002 = CheckId(
    "prodserver.W002",
    "SECURE_PROXY_SSL_HEADER names a header the web server removes, because it trusts no proxy.",
    "Set FORWARDED_ALLOW_IPS (or the server's trusted-proxy option in ARGS) to your proxy's address.",
    deploy=True,
)
W003 = CheckId(
    "prodserver.W003",
    "SECURE_SSL_REDIRECT is on without SECURE_PROXY_SSL_HEADER: a redirect loop behind a "
    "TLS-terminating proxy.",
    "Set SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https') when your proxy sets that "
    "header (and removes it from clients' requests), or tell the server to trust the proxy "
    "(FORWARDED_ALLOW_IPS). If nothing sits in front of the server, silence prodserver.W003.",
    deploy=True,
)
E009 = CheckId(
    "prodserver.E009",
    "PRODSERVER_HEALTH is malformed, or READY_CHECKS names a check that cannot be found.",
    "READY_CHECKS takes 'database', 'cache', 'database:ALIAS', 'cache:ALIAS' or the dotted path of a "
    "callable that raises (or returns False) when the process is not ready; see docs/health.md.",
)
E011 = CheckId(
    "prodserver.E011",
    "PRODUCTION_PROCESSES is missing or empty: there is nothing to start.",
    "Add a process, e.g. PRODUCTION_PROCESSES = {'web': {'BACKEND': "
    "'django_prodserver.backends.gunicorn.GunicornServer'}}; docs/configuration.md lists the backends.",
    deploy=True,
)
W005 = CheckId(
    "prodserver.W005",
    "A development server (runserver and the like) is among the production processes.",
    "Use a production server for the process, e.g. gunicorn's GunicornServer; keep the development "
    "backends for settings that never reach production.",
    deploy=True,
)
W004 = CheckId(
    "prodserver.W004",
    "HealthCheckMiddleware comes after a middleware that validates the Host header or redirects to https.",
    "Move 'django_prodserver.middleware.HealthCheckMiddleware' to the top of MIDDLEWARE, so probes "
    "that send an IP address as Host are answered instead of rejected or redirected.",
)
W006 = CheckId(
    "prodserver.W006",
    "A web process answers no liveness or readiness probe.",
    'Add path("", include("django_prodserver.urls")) to your ROOT_URLCONF: prodserver then answers '
    "/healthz/ and /readyz/ ahead of Django, past ALLOWED_HOSTS and SECURE_SSL_REDIRECT; see "
    "docs/health.md.",
    deploy=True,
)
W007 = CheckId(
    "prodserver.W007",
    "A process entry of a built-in backend has a key prodserver does not read (a typo is otherwise ignored).",
    "Correct the key the message names; docs/configuration.md lists the keys of a process entry. "
    "Entries whose BACKEND is not one of prodserver's are not checked: custom backends may read keys "
    "of their own.",
)

#: Every id, in order; ids must be unique (a test says so).
ALL: tuple[CheckId, ...] = (
    E001,
    E002,
    E003,
    E004,
    E005,
    E006,
    E007,
    E008,
    E009,
    E010,
    E011,
    E012,
    W001,
    W002,
    W003,
    W004,
    W005,
    W006,
    W007,
)

#: Error class → id; the first matching class wins, so subclasses come before their bases.
ERROR_IDS: tuple[tuple[type[ProdserverError], CheckId], ...] = (
    (HealthSettingError, E009),
    (NothingConfigured, E011),
    (ConfigurationError, E001),
    (BackendImportError, E002),
    (ProgramNotInstalled, E003),
    (PlatformValueError, E012),
    (OptionError, E004),
    (ApplicationNotFound, E005),
    (AppImportError, E006),
    (StartupError, E007),
    (WorkerSetupError, E010),
    (ProdserverError, E008),
)


def check_id(exc: ProdserverError) -> CheckId:
    return next(spec for cls, spec in ERROR_IDS if isinstance(exc, cls))

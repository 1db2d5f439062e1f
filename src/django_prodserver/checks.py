"""Django system checks for ``PRODUCTION_PROCESSES``: every process validated without starting it.

Every check id prodserver reports is declared in this module, once, with the hint that gives
the fix. Errors are found by the same code that starts a process (conf, the backend loader,
each program's own parser), so ``manage.py check`` in CI fails on exactly what would have
made the server crash-loop after the deploy.

Django runs the default checks before almost every command (``migrate``, ``runserver``,
``test``), so they report only what is wrong on every machine. What depends on this machine
or on the deploy (a program not installed here, a service unreachable, nothing configured
yet, DEBUG behind a proxy) waits for ``check --deploy``, ``prodserver --check`` and the start.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import checks

from django_prodserver import wiring
from django_prodserver.conf import health_settings
from django_prodserver.conf.processes import get_process, key_warnings, process_names
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

if TYPE_CHECKING:
    from django_prodserver.backends.web import WebServerBackend

TAG = "prodserver"


@dataclass(frozen=True)
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
    "A process' BACKEND cannot be imported or is not a backend class.",
    "Set 'BACKEND' to the dotted path of a subclass of "
    "django_prodserver.backends.base.BaseServerBackend, e.g. "
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
    "A platform variable of this machine (PORT, WEB_CONCURRENCY, GUNICORN_CMD_ARGS) has a value the "
    "server cannot use.",
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

#: ``prodserver web`` validates only the processes it starts, so a typo in another process'
#: ARGS does not keep the web server down, and start-up stays fast.
_only: ContextVar[frozenset[str] | None] = ContextVar("prodserver_checks_only", default=None)


@contextlib.contextmanager
def only_processes(names: Sequence[str] | None) -> Iterator[None]:
    """Limit the checks to these processes (None: every configured process)."""
    token = _only.set(None if names is None else frozenset(names))
    try:
        yield
    finally:
        _only.reset(token)


def check_id(exc: ProdserverError) -> CheckId:
    return next(spec for cls, spec in ERROR_IDS if isinstance(exc, cls))


def error(exc: ProdserverError) -> checks.CheckMessage:
    spec = check_id(exc)
    return checks.Error(str(exc), hint=spec.hint, id=spec.id)


def warning(spec: CheckId, message: str) -> checks.CheckMessage:
    return checks.Warning(message, hint=spec.hint, id=spec.id)


def _selected() -> tuple[list[str], list[ProdserverError]]:
    """The process names to check, and errors for the setting or for unknown names asked for."""
    try:
        names = process_names()
    except ProdserverError as exc:
        return [], [exc]
    only = _only.get()
    if only is None:
        return names, []
    problems: list[ProdserverError] = []
    for name in sorted(only - set(names)):
        try:
            get_process(name)
        except ProdserverError as exc:
            problems.append(exc)
    return [name for name in names if name in only], problems


def _backends(names: Iterable[str]) -> Iterator[tuple[Any, ProdserverError | None]]:
    from django_prodserver.loading import load_backend

    for name in names:
        try:
            yield load_backend(get_process(name)), None
        except ProdserverError as exc:
            yield None, exc


def process_errors(names: Sequence[str]) -> list[ProdserverError]:
    """Every problem found in the named processes without starting them.

    The command reports these as plain lines before Django's checks run, so a typo reads
    as one line instead of a ``SystemCheckError`` block.
    """
    return [
        problem
        for backend, failed in _backends(names)
        for problem in ([failed] if failed is not None else backend.check())
    ]


def _setting_and_process_errors(*, deploy: bool) -> list[checks.CheckMessage]:
    names, problems = _selected()
    return [error(exc) for exc in [*problems, *process_errors(names)] if check_id(exc).deploy == deploy]


@checks.register(TAG)
def check_processes(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """What is wrong on every machine: shape, BACKEND, APP, every ARGS key and value, the app."""
    return _setting_and_process_errors(deploy=False)


@checks.register(TAG)
def check_process_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A key that nothing reads, e.g. "DRIAN": 10, which would leave DRAIN off without a word."""
    messages: list[checks.CheckMessage] = []
    for name in _selected()[0]:
        try:
            process = get_process(name)
        except ProdserverError:
            continue  # check_processes reports it
        messages.extend(warning(W007, text) for text in key_warnings(process))
    return messages


@checks.register(TAG, deploy=True)
def check_this_machine(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """What the start would stop on here: nothing configured, a program missing, a service down."""
    messages = _setting_and_process_errors(deploy=True)
    names, _ = _selected()
    for backend, problem in _backends(names):
        # A worker's broker or database, as its start would find them. Not a web server's
        # port: the running server itself holds it wherever this check runs beside it.
        if problem is None and backend.kind == "worker" and not backend.check():
            try:
                backend.preflight()
            except ProdserverError as exc:
                messages.append(error(exc))
    return messages


@checks.register(TAG, deploy=True)
def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """How each web server meets DEBUG and Django's proxy/HTTPS settings in production."""
    from django_prodserver.backends.web import WebServerBackend

    names, _ = _selected()  # setting errors are check_processes' to report
    messages: list[checks.CheckMessage] = []
    for backend, problem in _backends(names):
        if backend is not None and backend.development:
            messages.append(
                warning(
                    W005,
                    f"Process {backend.name!r} runs {type(backend).__name__}, a development server: "
                    "it is neither secure nor fast enough for production.",
                )
            )
        # A process with errors gets those from check_processes, and no guesses on top.
        if problem is None and isinstance(backend, WebServerBackend) and not backend.check():
            messages.extend(_deploy_messages(backend))
    return messages


def _deploy_messages(backend: WebServerBackend) -> list[checks.CheckMessage]:
    messages = []
    name, program = backend.name, backend.program
    serving = backend.resolve().serving
    listen = serving.listen if serving else ()
    exposed = sorted({host for host, _ in listen if _all_interfaces(host)})
    if settings.DEBUG and exposed:
        messages.append(
            warning(
                W001,
                f"Process {name!r}: {program} listens on all interfaces ({', '.join(exposed)}) "
                "while DEBUG = True.",
            )
        )
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header and backend.drops_proxy_header(proxy_header[0]):
        messages.append(
            warning(
                W002,
                f"Process {name!r}: SECURE_PROXY_SSL_HEADER relies on {_header(proxy_header[0])}, but "
                f"{program} removes that header from every request because it trusts no proxy for it: "
                "request.is_secure() is never True.",
            )
        )
    if (
        getattr(settings, "SECURE_SSL_REDIRECT", False)
        and not proxy_header
        and not (serving and serving.tls)
        and backend.configured_proxy_trust() is None
    ):
        messages.append(
            warning(
                W003,
                f"Process {name!r}: SECURE_SSL_REDIRECT = True without SECURE_PROXY_SSL_HEADER, and "
                f"{program} is not told to trust a proxy's X-Forwarded-Proto: behind a "
                "TLS-terminating proxy every request looks like plain HTTP and is redirected again.",
            )
        )
    if serving and serving.app.startswith(f"{wiring.GATEWAY}:") and not wiring.routes():
        messages.append(
            warning(
                W006,
                f"Process {name!r}: {program} answers no health probe: neither "
                "django_prodserver.urls nor HealthCheckMiddleware is wired, so an orchestrator "
                "cannot tell a hung process from a healthy one.",
            )
        )
    return messages


def _all_interfaces(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "", "*")


def _header(meta: str) -> str:
    """``HTTP_X_FORWARDED_PROTO`` → ``X-Forwarded-Proto``."""
    return "-".join(part.capitalize() for part in meta.removeprefix("HTTP_").split("_"))


@checks.register(TAG)
def check_health(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """PRODSERVER_HEALTH, and the probe middleware's place in MIDDLEWARE."""
    from django_prodserver.health import misplaced_middleware, resolve_checks

    try:
        resolve_checks(health_settings.health().ready_checks)
    except ProdserverError as exc:
        return [error(exc)]
    found = misplaced_middleware()
    if found is None:
        return []
    ours, earlier = found
    return [
        warning(
            W004,
            f"{ours} comes after {earlier!r} in MIDDLEWARE, so probes whose Host header is not in "
            "ALLOWED_HOSTS are rejected, and SECURE_SSL_REDIRECT redirects them.",
        )
    ]


@checks.register(TAG)
def check_supervisor(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """PRODSERVER_SUPERVISOR: wrong everywhere, so found by every check, not first by a supervisor."""
    from django_prodserver.conf.supervisor_settings import supervisor

    try:
        supervisor()
    except ProdserverError as exc:
        return [error(exc)]
    return []

"""Django system checks for ``PRODUCTION_PROCESSES``: every process validated without starting it.

Errors are found by the same code that starts a process (conf, the backend loader, each
program's own parser), so ``manage.py check`` in CI fails on exactly what would have made the
server crash-loop after the deploy. Each message carries its id and the hint that gives the
fix from :mod:`.check_ids`, where every id is declared.

Django runs the default checks before almost every command (``migrate``, ``runserver``,
``test``), so they report only what is wrong on every machine. What depends on this machine
or on the deploy (a program not installed here, a service unreachable, nothing configured
yet, DEBUG behind a proxy) waits for ``check --deploy``, ``prodserver --check`` and the start.

``django.setup()`` imports this module to register the checks, also before
``prodserver web --skip-checks``, which runs none: so the checks import what they use (the
id table, the backends, the health checks, the supervisor's settings) when they run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import checks

from django_prodserver import wiring
from django_prodserver.conf import health_settings
from django_prodserver.conf.processes import get_process, process_names
from django_prodserver.errors import ProdserverError

if TYPE_CHECKING:
    from django_prodserver.backends.web import WebServerBackend
    from django_prodserver.check_ids import CheckId

TAG = "prodserver"


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


#: Django's own checks that concern other commands only, left out before a start: Django
#: 5.2's ``commands`` check compares the autodetectors of ``migrate`` and ``makemigrations``,
#: and loading both commands imports the whole migration machinery (about 1.3 % of a waitress
#: start; benchmarks/README.md). ``manage.py check``, ``migrate`` and ``makemigrations`` run it.
NOT_BEFORE_A_START = frozenset({"commands"})


@contextlib.contextmanager
def without_tags(tags: frozenset[str]) -> Iterator[None]:
    """Leave the registered checks with any of ``tags`` out of the checks run inside the block."""
    registry = checks.registry.registry
    left_out = {check for check in registry.registered_checks if tags & set(getattr(check, "tags", ()))}
    registry.registered_checks -= left_out
    try:
        yield
    finally:
        registry.registered_checks |= left_out


def error(exc: ProdserverError) -> checks.CheckMessage:
    from django_prodserver.check_ids import check_id

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


def shared_port(names: Sequence[str]) -> str | None:
    """Why two of the named web processes cannot run together on one machine: the same port.

    Only for processes started together (``--all``, several names): run apart, on their own
    machines or containers, two processes may well listen on the same port.
    """
    taken: dict[int, list[tuple[str, str]]] = {}
    for backend, failed in _backends(names):
        serving = backend.resolve().serving if failed is None else None
        if serving is None or backend.shares_port():
            continue
        for host, port in serving.listen:
            if not port:
                continue
            for other_host, other in taken.get(port, []):
                if other != backend.name and (
                    other_host == host or _all_interfaces(other_host) or _all_interfaces(host)
                ):
                    return (
                        f"Processes {other!r} and {backend.name!r} both listen on port {port} "
                        f"({other_host} and {host}): run together, the second cannot start; give one "
                        "of them another port (ARGS or the command line)."
                    )
            taken.setdefault(port, []).append((host, backend.name))
    return None


def _setting_and_process_errors(*, deploy: bool) -> list[checks.CheckMessage]:
    from django_prodserver.check_ids import check_id

    names, problems = _selected()
    return [error(exc) for exc in [*problems, *process_errors(names)] if check_id(exc).deploy == deploy]


@checks.register(TAG)
def check_processes(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """What is wrong on every machine: shape, BACKEND, APP, every ARGS key and value, the app."""
    return _setting_and_process_errors(deploy=False)


@checks.register(TAG)
def check_process_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A key that nothing reads, e.g. "DRIAN": 10, which would leave DRAIN off without a word."""
    from django_prodserver.check_ids import W007

    return [
        warning(W007, text)
        for backend, problem in _backends(_selected()[0])
        if problem is None  # check_processes reports it
        for text in backend.unread_keys()
    ]


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
    from django_prodserver.check_ids import W005

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
    from django_prodserver.check_ids import W001, W002, W003, W006

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
    from django_prodserver.check_ids import W004
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


def __getattr__(name: str) -> Any:
    """The id table's names (``E001``, ``ALL``, ``check_id`` …), importable from here as they were
    before the table had a module of its own; imported on first use, as the checks do."""
    if not name.startswith("_"):
        from django_prodserver import check_ids

        if hasattr(check_ids, name):
            return getattr(check_ids, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

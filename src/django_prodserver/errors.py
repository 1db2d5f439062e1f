"""Typed errors. The management command turns each into one line on stderr and a non-zero exit."""

from __future__ import annotations


class ProdserverError(Exception):
    """A problem the user can fix; ``str()`` is the whole message, one or two lines.

    Built-in backends raise one of the subclasses below; the bare class is what a custom
    backend raises (its check id says "a backend reported a problem").
    """


class ConfigurationError(ProdserverError):
    """``PRODUCTION_PROCESSES`` has the wrong shape or names an unknown process."""


class NothingConfigured(ConfigurationError):
    """``PRODUCTION_PROCESSES`` is missing or empty: a project that has not configured a process yet.

    Not an error of the project everywhere (``migrate`` must still run), so only the deploy
    checks and the command itself report it.
    """


class HealthSettingError(ConfigurationError):
    """``PRODSERVER_HEALTH`` has the wrong shape or names a readiness check that cannot be found."""


class BackendImportError(ProdserverError):
    """A process' ``BACKEND`` path does not import, or is not a backend class."""


class ProgramNotInstalled(ProdserverError):
    """The program a backend runs is missing; the message names the extra that installs it."""


def not_installed(process: str, backend: str, what: str, extra: str) -> ProgramNotInstalled:
    """The one wording of "this program is missing here", with the extra that installs it."""
    return ProgramNotInstalled(
        f"Process {process!r} uses {backend}, but {what} is not installed: "
        f"pip install 'django-prodserver[{extra}]'"
    )


class WorkerSetupError(ProdserverError):
    """A worker's Django side does not fit it: its app is not in INSTALLED_APPS, or the task
    backend it names has no worker."""


class OptionError(ProdserverError):
    """An ARGS key or value (or a command-line override) the program's own parser rejects."""


class PlatformValueError(OptionError):
    """A platform variable of this machine (``PORT``, ``WEB_CONCURRENCY``, ``GUNICORN_CMD_ARGS``)
    has a value the program cannot use: wrong here, not in the project, so a deploy check."""


class ApplicationNotFound(ProdserverError):
    """A web process cannot find the WSGI/ASGI application it serves."""


class AppImportError(ProdserverError):
    """A worker's ``APP`` (e.g. the Celery app) cannot be imported."""


class StartupError(ProdserverError):
    """Something found just before starting: port in use, broker unreachable, warm-up failed."""

"""Typed errors. The management command turns each into one line on stderr and a non-zero exit."""

from __future__ import annotations


class ProdserverError(Exception):
    """A problem the user can fix; ``str()`` is the whole message, one or two lines."""

    @property
    def check_id(self) -> str:
        """The id ``manage.py check`` reports this problem under; every id lives in checks.py."""
        from django_prodserver.checks import check_id

        return check_id(self).id


class ConfigurationError(ProdserverError):
    """``PRODUCTION_PROCESSES`` has the wrong shape or names an unknown process."""


class HealthSettingError(ConfigurationError):
    """``PRODSERVER_HEALTH`` has the wrong shape or names a readiness check that cannot be found."""


class BackendImportError(ProdserverError):
    """A process' ``BACKEND`` path does not import, or is not a backend class."""


class ProgramNotInstalled(ProdserverError):
    """The program a backend runs is missing; the message names the extra that installs it."""


class OptionError(ProdserverError):
    """An ARGS key or value (or a command-line override) the program's own parser rejects."""


class ApplicationNotFound(ProdserverError):
    """A web process cannot find the WSGI/ASGI application it serves."""


class AppImportError(ProdserverError):
    """A worker's ``APP`` (e.g. the Celery app) cannot be imported."""


class StartupError(ProdserverError):
    """Something found just before starting: port in use, broker unreachable, warm-up failed."""

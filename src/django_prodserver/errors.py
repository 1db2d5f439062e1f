"""Typed errors. The management command turns each into one line on stderr and a non-zero exit."""

from __future__ import annotations


class ProdserverError(Exception):
    """A problem the user can fix; ``str()`` is the whole message, one or two lines."""

    #: Check id reported when the same problem is found by ``manage.py check``.
    check_id = "prodserver.E001"


class ConfigurationError(ProdserverError):
    """``PRODUCTION_PROCESSES`` has the wrong shape or names an unknown process."""


class BackendImportError(ProdserverError):
    check_id = "prodserver.E002"


class ProgramNotInstalled(ProdserverError):
    check_id = "prodserver.E003"


class OptionError(ProdserverError):
    """An ARGS key or value (or a command-line override) the program's own parser rejects."""

    check_id = "prodserver.E004"


class ApplicationNotFound(ProdserverError):
    check_id = "prodserver.E005"


class AppImportError(ProdserverError):
    """A worker's ``APP`` (e.g. the Celery app) cannot be imported."""

    check_id = "prodserver.E006"


class StartupError(ProdserverError):
    """Something found just before starting: port in use, broker unreachable, warm-up failed."""

    check_id = "prodserver.E007"

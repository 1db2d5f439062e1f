"""Process name → backend object, with one clear error for each way that can go wrong."""

from __future__ import annotations

from collections.abc import Sequence

from django_prodserver.backends.base import BaseServerBackend
from django_prodserver.conf import ProcessConfig
from django_prodserver.errors import BackendImportError
from django_prodserver.importing import NotFound, import_path


def backend_class(process: ProcessConfig) -> type[BaseServerBackend]:
    try:
        cls = import_path(process.backend)
    except NotFound as exc:
        raise BackendImportError(
            f"Process {process.name!r}: BACKEND {process.backend!r} cannot be imported ({exc}); "
            "check the dotted path, e.g. 'django_prodserver.backends.gunicorn.GunicornServer'."
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, BaseServerBackend)):
        raise BackendImportError(
            f"Process {process.name!r}: BACKEND {process.backend!r} is not a backend class "
            "(a subclass of django_prodserver.backends.base.BaseServerBackend)."
        )
    return cls


def load_backend(process: ProcessConfig, overrides: Sequence[str] = ()) -> BaseServerBackend:
    return backend_class(process).from_config(process, overrides)

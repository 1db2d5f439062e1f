"""Process name → backend object, with one clear error for each way that can go wrong."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar

from django_prodserver.backends import names
from django_prodserver.backends.base import BaseProcessBackend
from django_prodserver.conf.processes import ProcessConfig
from django_prodserver.errors import BackendImportError, ProdserverError, ProgramNotInstalled
from django_prodserver.importing import NotFound, import_path, where_raised


def backend_path(process: ProcessConfig) -> str:
    """The dotted path BACKEND names: itself, or what a short name stands for."""
    if not names.is_name(process.backend):
        return process.backend
    path = names.path_of(process.backend)
    if path is None:
        close = names.suggest(process.backend)
        hint = (
            "did you mean " + " or ".join(", ".join(map(repr, close)).rsplit(", ", 1)) + "?"
            if close
            else "use a backend name such as 'gunicorn' or a dotted path; docs/configuration.md lists them."
        )
        raise BackendImportError(
            f"Process {process.name!r}: BACKEND {process.backend!r} is not a backend name; {hint}"
        )
    return path


def backend_class(process: ProcessConfig) -> type[BaseProcessBackend]:
    path = backend_path(process)
    try:
        cls = import_path(path)
    except ModuleNotFoundError as exc:
        # The backend's module exists but imports a package this machine lacks (a plug-in's
        # program, say): wrong here, not in the project, so 'migrate' keeps working.
        raise ProgramNotInstalled(
            f"Process {process.name!r}: BACKEND {process.backend!r} needs the module {exc.name!r}, "
            "which is not installed here; install it (--traceback shows what imports it)."
        ) from exc
    except NotFound as exc:
        shown = repr(process.backend) if path == process.backend else f"{process.backend!r} ({path})"
        raise BackendImportError(
            f"Process {process.name!r}: BACKEND {shown} cannot be imported ({exc}); "
            "check the dotted path, e.g. 'django_prodserver.backends.gunicorn.GunicornServer'."
        ) from None
    except ProdserverError:
        raise  # e.g. a plug-in's require(): missing here, a deploy check (E003), not E002
    except Exception as exc:  # the backend's own module raised: the user's bug, said in one line
        raise BackendImportError(
            f"Process {process.name!r}: importing BACKEND {process.backend!r} raised "
            f"{type(exc).__name__}: {exc} ({where_raised(exc)}); fix that module (--traceback shows "
            "the whole traceback)."
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, BaseProcessBackend)):
        raise BackendImportError(
            f"Process {process.name!r}: BACKEND {process.backend!r} is not a backend class "
            "(a subclass of django_prodserver.backends.base.BaseServerBackend)."
        )
    if cls.start_server is BaseProcessBackend.start_server:
        # Found before the start instead of as a NotImplementedError traceback at it.
        raise BackendImportError(
            f"Process {process.name!r}: BACKEND {process.backend!r} does not define "
            "start_server(*args), which starts its program; add it to the class."
        )
    return cls


_Cache = dict[tuple[str, tuple[str, ...]], BaseProcessBackend]
_reused: ContextVar[_Cache | None] = ContextVar("prodserver_backends", default=None)


@contextlib.contextmanager
def reusing_backends() -> Iterator[None]:
    """Within this block, one backend object per process and command line.

    A backend resolves once and remembers that it validated, so the checks that run before a
    command and the start that follows them share that work instead of repeating it.
    """
    token = _reused.set({})
    try:
        yield
    finally:
        _reused.reset(token)


def load_backend(
    process: ProcessConfig, overrides: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> BaseProcessBackend:
    """The backend for ``process``; ``environ``: resolve it for another machine (an export)
    than this one, a backend that is then not this run's and so not shared."""
    if environ is not None:
        return backend_class(process).from_config(process, overrides, environ)
    cache = _reused.get()
    key = (process.name, tuple(overrides))
    if cache is not None and key in cache:
        return cache[key]
    backend = backend_class(process).from_config(process, overrides)
    if cache is not None:
        cache[key] = backend
    return backend

"""Which application a gunicorn worker class calls: WSGI, or ASGI (uvicorn's workers, ``-k asgi``).

Gunicorn hands its worker whatever APP_MODULE names. Given Django's WSGI handler, an ASGI
worker starts cleanly and then answers every request with 500 (and websockets are gone), so
the backend picks the application by the worker class. The class is resolved the way
gunicorn resolves it (``gunicorn.util.load_class``), so a project's own subclass of
``UvicornWorker`` counts as ASGI too.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
from collections.abc import Sequence

#: ASGI worker classes, as (module, class name); subclasses are ASGI too. ``uvicorn.workers``
#: is uvicorn's own (deprecated) copy of the worker that moved to ``uvicorn-worker``.
ASGI_WORKERS = (
    ("uvicorn_worker", "UvicornWorker"),
    ("uvicorn.workers", "UvicornWorker"),
    ("gunicorn.workers.gasgi", "ASGIWorker"),
)

#: Which package installs a worker class that does not import, by the module it is in.
INSTALL_HINTS = {
    "uvicorn_worker": "pip install 'django-prodserver[uvicorn-worker]'",
    "uvicorn": "pip install 'django-prodserver[uvicorn]'",
}


class WorkerClassError(LookupError):
    """The worker class does not load; ``str()`` is one line saying why and what to do."""


@functools.cache
def gunicorn_parser() -> argparse.ArgumentParser:
    """Gunicorn's own argument parser, built once per process.

    Building it (a hundred-odd options) costs milliseconds at every start; parsing leaves it
    unchanged, so the schema, the validation and GUNICORN_CMD_ARGS share one.
    """
    from gunicorn.config import Config

    parser: argparse.ArgumentParser = Config(prog="gunicorn").parser()
    return parser


def parsed_options(args: Sequence[str]) -> dict[str, str]:
    """The options gunicorn's own parser reads from ``args`` (dest → value; empty if malformed)."""
    if not args:
        return {}  # building gunicorn's parser costs several milliseconds at every start
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            namespace, _ = gunicorn_parser().parse_known_args(list(args))
    except SystemExit:  # malformed: the validation reports it
        return {}
    return {
        dest: str(value) for dest, value in vars(namespace).items() if value is not None and dest != "args"
    }


def _named(module: str, name: str) -> bool:
    return any(
        name == asgi_name and (module == m or module.startswith(m + ".")) for m, asgi_name in ASGI_WORKERS
    )


def _builtin() -> dict[str, str]:
    """Gunicorn's short names (``asgi``, ``gthread``) → the dotted paths they stand for."""
    from gunicorn.workers import SUPPORTED_WORKERS

    return dict(SUPPORTED_WORKERS)


def _dotted(value: str) -> str:
    return _builtin().get(value.lstrip("#"), value)


def load_worker_class(value: str) -> type:
    from gunicorn.util import load_class

    try:
        return load_class(value)  # type: ignore[no-any-return]
    except Exception as exc:  # gunicorn wraps every failure in RuntimeError with a traceback
        lines = [line.strip(" []") for line in str(exc).strip().splitlines() if line.strip(" []")]
        reason = lines[-1] if lines else type(exc).__name__
        module = _dotted(value).partition(":")[0]
        if value.lstrip("#") in _builtin():
            hint = f"gunicorn's {value!r} worker needs a library that is not installed (see gunicorn's docs)"
        else:
            hint = INSTALL_HINTS.get(
                module.split(".")[0], "give gunicorn's name or the dotted path of the class"
            )
        raise WorkerClassError(f"cannot be loaded ({reason}); {hint}.") from None


def is_asgi_worker(value: str) -> bool:
    """Whether the worker class named ``value`` serves ASGI; False when it does not load."""
    module, _, name = _dotted(value).rpartition(".")
    if _named(module, name):
        return True
    if value.lstrip("#") in _builtin():
        return False  # gunicorn's WSGI workers: no need to import gevent & co. to know
    try:
        cls = load_worker_class(value)
    except WorkerClassError:
        return False
    return any(_named(base.__module__, base.__name__) for base in cls.__mro__)

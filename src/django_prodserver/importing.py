"""Import dotted paths and tell "no such module/attribute" from "your module raised".

The first is a typo the user fixes from one line; the second is a bug in their code, which
the callers report in one line naming where it raised (:func:`where_raised`), chained so
that ``--traceback`` shows the whole traceback.
"""

from __future__ import annotations

import importlib
from typing import Any


class NotFound(LookupError):
    """The path names a module or attribute that does not exist."""


def is_missing(exc: ModuleNotFoundError, module: str) -> bool:
    """Whether ``exc`` says ``module`` itself (or a parent package of it) does not exist.

    A module missing *inside* the user's code is their bug and keeps its traceback.
    """
    return bool(exc.name) and (module == exc.name or module.startswith(f"{exc.name}."))


def require(module: str, *, process: str, backend: str, what: str, extra: str) -> None:
    """Import ``module``; when it is missing, one line saying which extra installs ``what``."""
    from django_prodserver.errors import not_installed

    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if is_missing(exc, module):
            raise not_installed(process, backend, what, extra) from None
        raise


def import_path(path: str) -> Any:
    """Import ``pkg.mod.attr`` or ``pkg.mod:attr`` (attribute may be dotted after a colon)."""
    if ":" in path:
        module_name, _, attrs = path.partition(":")
    elif "." in path:
        module_name, _, attrs = path.rpartition(".")
    else:
        module_name, attrs = path, ""
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if is_missing(exc, module_name):
            raise NotFound(f"no module named {exc.name!r}") from None
        raise
    for attr in filter(None, attrs.split(".")):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise NotFound(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def where_raised(exc: BaseException) -> str:
    """``file, line N`` of the user's code that raised, for a one-line message without a traceback."""
    import os
    import traceback

    if isinstance(exc, SyntaxError) and exc.filename:
        filename, line = exc.filename, exc.lineno
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        if not frames:
            return "no traceback"
        filename, line = frames[-1].filename, frames[-1].lineno
    relative = os.path.relpath(filename)
    return f"{filename if relative.startswith('..') else relative}, line {line}"


def module_exists(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False

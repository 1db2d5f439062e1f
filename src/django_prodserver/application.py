"""Find the project's WSGI/ASGI application as the ``module:attribute`` target servers expect.

``startproject`` writes ``WSGI_APPLICATION = "mysite.wsgi.application"`` (dotted, no colon)
and no ``ASGI_APPLICATION``; the ASGI app lives in the ``asgi.py`` beside ``wsgi.py``.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from django.conf import settings

from django_prodserver.errors import ApplicationNotFound
from django_prodserver.importing import is_missing, module_exists


def to_target(dotted: str) -> str:
    """``mysite.wsgi.application`` → ``mysite.wsgi:application`` (a colon path is kept)."""
    if ":" in dotted:
        return dotted
    module, _, attr = dotted.rpartition(".")
    return f"{module}:{attr}" if module else dotted


def wsgi_target(process: str) -> str:
    dotted = getattr(settings, "WSGI_APPLICATION", None)
    if not dotted:
        raise ApplicationNotFound(
            f"Process {process!r} serves the WSGI application, but WSGI_APPLICATION is not set: "
            "add WSGI_APPLICATION = 'mysite.wsgi.application' to your settings (or set 'APP')."
        )
    return to_target(dotted)


def asgi_target(process: str) -> str:
    dotted = getattr(settings, "ASGI_APPLICATION", None)
    if dotted:
        return to_target(dotted)
    wsgi = getattr(settings, "WSGI_APPLICATION", None)
    if wsgi:
        module = to_target(wsgi).partition(":")[0]
        package = module.rpartition(".")[0]
        candidate = f"{package}.asgi" if package else "asgi"
        if module_exists(candidate):
            return f"{candidate}:application"
        hint = f"create {candidate.replace('.', '/')}.py (as startproject does) or set ASGI_APPLICATION"
    else:
        hint = "set ASGI_APPLICATION = 'mysite.asgi.application' in your settings"
    raise ApplicationNotFound(
        f"Process {process!r} serves the ASGI application, but none was found: {hint} (or set 'APP')."
    )


def _module_names(path: str) -> set[str] | None:
    """Names a module's source binds at top level, or None when that cannot be told.

    Read from the source instead of importing it: importing the app here would build
    Django's handler in the server's master process, before it forks its workers.
    """
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    names: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == "__getattr__":
                return None  # module-level __getattr__ can provide any name
            names.add(node.name)
            pending.extend(node.decorator_list)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("globals", "setattr")
        ):
            return None
        pending.extend(ast.iter_child_nodes(node))
    return names


def _find_module(module: str) -> tuple[bool, str | None]:
    """(found, source path) without running the module itself (parent packages do run)."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError as exc:
        if is_missing(exc, module):
            return False, None
        raise
    except ValueError:
        return False, None
    if spec is None:
        return False, None
    origin = spec.origin if spec.has_location and spec.origin and spec.origin.endswith(".py") else None
    return True, origin


def target_source(process: str, app: str | None, interface: str) -> tuple[str, str]:
    """(where the target came from, how to fix it), for :func:`check_target`'s message."""
    if app:
        return (
            f"APP {app!r}",
            f"fix PRODUCTION_PROCESSES[{process!r}]['APP'] (e.g. 'mysite.{interface}:application')",
        )
    setting = f"{interface.upper()}_APPLICATION"
    dotted = getattr(settings, setting, None)
    if dotted:
        return (
            f"{setting} {dotted!r}",
            f"fix the {setting} setting (e.g. 'mysite.{interface}.application') or set 'APP'",
        )
    return (
        f"the ASGI application {asgi_target(process)!r}",
        "define 'application' there (as startproject's asgi.py does) or set ASGI_APPLICATION or 'APP'",
    )


def check_target(process: str, target: str, origin: str, fix: str) -> None:
    """Fail in one line when ``module:attribute`` names a module or attribute that does not exist.

    Servers import the app only in their workers, after start-up, where a typo becomes a
    crash loop or a 500 on every request; this catches it before anything starts.
    """
    module, _, attr = target.partition(":")
    found, path = _find_module(module)
    if not found:
        problem = f"there is no module {module!r}"
    else:
        names = _module_names(path) if path and attr and "." not in attr else None
        if names is None or attr in names:
            return
        problem = f"module {module!r} defines no {attr!r}"
    raise ApplicationNotFound(f"Process {process!r}: {origin} cannot be loaded: {problem}; {fix}.")

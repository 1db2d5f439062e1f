"""``prodserver --export FORMAT``: the platform files for the configured processes.

One small module per format turns the shared :mod:`.facts` into file contents (name → text);
:mod:`.writer` puts them on disk all at once or compares them with what is there (``--check``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

from django_prodserver.errors import ProdserverError
from django_prodserver.export.facts import Project

#: The formats, most used first; each is the module of the same name in this package.
FORMATS = ("procfile", "systemd", "compose", "kubernetes", "dockerfile", "supervisord", "fly", "render")

Files = dict[str, str]


class ExportError(ProdserverError):
    """An unknown format, or an output that cannot be written as asked."""


def renderer(name: str) -> Callable[[Project], Files]:
    if name not in FORMATS:
        raise ExportError(f"Unknown export format {name!r}; use one of {', '.join(FORMATS)}.")
    module = importlib.import_module(f"django_prodserver.export.{name}")
    render: Callable[[Project], Files] = module.render
    return render


def render(name: str, names: Sequence[str] = (), directory: str | None = None) -> Mapping[str, str]:
    """The files FORMAT writes for the named processes (all when none is named)."""
    from django_prodserver.export.facts import project

    render_files = renderer(name)
    return render_files(project(names, directory))

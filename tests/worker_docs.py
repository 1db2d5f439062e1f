"""The ARGS tables of the worker pages (Celery, Django Tasks, Django-Q2), generated from each schema.

A page may hold several tables, each after a marker naming its backend; the table lists the
ARGS keys worth knowing, and every other cell (the option it becomes, what kind of value,
what prodserver sets, the program's own help) comes from the installed program.
``test_worker_docs.py`` fails when a page differs from what this renders;
``python tests/worker_docs.py`` rewrites the pages.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent / "docs" / "backends"
PAGES = ("celery.md", "django-tasks.md", "django-q2.md")
MARKER = re.compile(
    r"<!-- ARGS table of (?P<backend>[\w.]+): generated from the program's own options by "
    r"tests/worker_docs.py -->\n(?P<table>.*?)<!-- end of ARGS table -->\n",
    re.DOTALL,
)
HEADER = (
    "| ARGS key | option | value | prodserver sets | what the program's help says |\n"
    "| --- | --- | --- | --- | --- |"
)
_ROW_KEY = re.compile(r"^\| `([^`]+)` \|")
#: Apps the Django Tasks and Django-Q2 backends need installed to read their commands' parsers.
WORKER_APPS = ("django_tasks", "django_tasks_db", "django_q")


@contextmanager
def _worker_apps() -> Iterator[None]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import override_settings

    apps = [*settings.INSTALLED_APPS, *(a for a in WORKER_APPS if a not in settings.INSTALLED_APPS)]
    # A Q_CLUSTER Django-Q2 does not warn about (its default has retry below timeout), in place
    # before the apps load: override_settings installs apps before its other settings.
    cluster = override_settings(Q_CLUSTER={"orm": "default", "timeout": 60, "retry": 90})
    with cluster, override_settings(INSTALLED_APPS=apps):
        yield


def _backend(path: str) -> Any:
    from django_prodserver.conf import parse_process
    from django_prodserver.loading import load_backend

    return load_backend(parse_process("worker", {"BACKEND": path, "APP": "testproject.celery.app"}))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _value_kind(backend: Any, option: Any) -> str:
    if not option.takes_value:
        return "on/off"
    if option.dest in backend.comma_separated():
        return "value (list: comma-joined)"
    if option.repeatable:
        return "value (list: repeated)"
    return "True/False" if isinstance(option.default, bool) else "value"


def row(backend: Any, key: str) -> str:
    lookup = backend.schema.lookup(key)
    if lookup is None:
        raise LookupError(f"{backend.program} has no option {key!r}")
    option = lookup.option
    own = {**backend.defaults(), **backend.fixed_options()}
    sets = [v for k, v in own.items() if backend.schema.lookup(k).option.dest == option.dest]
    shown = ", ".join(("on" if v else "off") if isinstance(v, bool) else f"`{_cell(str(v))}`" for v in sets)
    return (
        f"| `{key}` | `{option.flag or option.off_flag}` | {_value_kind(backend, option)} | {shown} | "
        f"{_cell(option.help)} |"
    )


def render(text: str) -> str:
    """The page with every ARGS table's rows regenerated for the keys it lists."""

    def table(match: re.Match[str]) -> str:
        keys = [m.group(1) for m in map(_ROW_KEY.match, match["table"].strip().splitlines()[2:]) if m]
        backend = _backend(match["backend"])
        rows = "\n".join(row(backend, key) for key in keys)
        head = match.group(0).partition("\n")[0]
        return f"{head}\n{HEADER}\n{rows}\n<!-- end of ARGS table -->\n"

    with _worker_apps():
        return MARKER.sub(table, text)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for name in PAGES:
        path = DOCS / name
        path.write_text(render(path.read_text()))
        print(f"wrote {path}")

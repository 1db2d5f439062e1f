"""The ARGS tables of the backend pages in docs/backends/, generated from each program's schema.

A page lists the ARGS keys worth knowing between two markers; everything else in a row (the
option it becomes, whether it takes a value, what prodserver sets, the program's own help
text) comes from the installed program. ``test_backend_docs.py`` fails when a page differs
from what this renders; ``python tests/backend_docs.py`` rewrites the pages.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent / "docs" / "backends"
START = "<!-- ARGS table: generated from the program's own options by tests/backend_docs.py -->"
END = "<!-- end of ARGS table -->"
HEADER = (
    "| ARGS key | option | value | prodserver sets | what the program's help says |\n"
    "| --- | --- | --- | --- | --- |"
)
_ROW_KEY = re.compile(r"^\| `([^`]+)` \|")

#: Page → backend whose schema fills its table.
PAGES = {
    "hypercorn.md": "django_prodserver.backends.hypercorn.HypercornServer",
    "daphne.md": "django_prodserver.backends.daphne.DaphneServer",
    "uwsgi.md": "django_prodserver.backends.uwsgi.UWSGIServer",
    "gunicorn-uvicorn.md": "django_prodserver.backends.gunicorn.GunicornUvicornServer",
}


def _backend(path: str) -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    import django

    django.setup()
    from django_prodserver.conf import parse_process
    from django_prodserver.loading import load_backend

    return load_backend(parse_process("web", {"BACKEND": path, "ARGS": {}}))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _value_kind(option: Any) -> str:
    if not option.takes_value:
        return "on/off"
    if option.value_optional:
        return "value, or True"
    return "value (list: repeated)" if option.repeatable else "value"


def _shown(backend: Any, value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value == backend.app_target():
        return f"the app (`{backend.serves().upper()}_APPLICATION`)"
    return f"`{_cell(str(value))}`"


def row(backend: Any, key: str) -> str:
    lookup = backend.schema.lookup(key)
    if lookup is None:
        raise LookupError(f"{backend.program} has no option {key!r}")
    option = lookup.option
    own = {**backend.production_defaults(), **backend.fixed_options()}
    sets = [v for k, v in own.items() if backend.schema_dest(k) == option.dest]
    shown = ", ".join(_shown(backend, v) for v in sets)
    return (
        f"| `{key}` | `{option.flag or option.off_flag}` | {_value_kind(option)} | {shown} | "
        f"{_cell(option.help)} |"
    )


def render(page: str, text: str) -> str:
    """The page with its ARGS table rows regenerated for the keys it lists."""
    head, start, rest = text.partition(START)
    table, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"docs/backends/{page} has no ARGS table markers")
    keys = [m.group(1) for m in map(_ROW_KEY.match, table.strip().splitlines()[2:]) if m]
    backend = _backend(PAGES[page])
    rows = "\n".join(row(backend, key) for key in keys)
    return f"{head}{start}\n{HEADER}\n{rows}\n{end}{tail}"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for name in PAGES:
        path = DOCS / name
        path.write_text(render(name, path.read_text()))
        print(f"wrote {path}")

#!/usr/bin/env python
"""Render the ARGS tables of docs/backends/{gunicorn,uvicorn,granian,waitress}.md from the schemas.

Every row comes from the installed program's own parser (through ``backend.schema``), so the
pages list exactly the options that version accepts and cannot drift from the code. Run it
after upgrading a program; ``tests/test_backend_pages.py`` fails until the pages match.

    .venv/bin/python scripts/gen_backend_docs.py          # rewrite the pages
    .venv/bin/python scripts/gen_backend_docs.py --check  # exit 1 if a page is out of date
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "backends"
BEGIN = "<!-- BEGIN GENERATED: scripts/gen_backend_docs.py -->"
END = "<!-- END GENERATED -->"


@dataclass(frozen=True)
class Page:
    file: str
    #: (label, backend path); the first one's schema fills the option table.
    backends: tuple[tuple[str, str], ...]
    #: The distribution whose version the table was generated from.
    distribution: str


PAGES = (
    Page(
        "gunicorn.md", (("GunicornServer", "django_prodserver.backends.gunicorn.GunicornServer"),), "gunicorn"
    ),
    Page(
        "uvicorn.md",
        (
            ("UvicornServer", "django_prodserver.backends.uvicorn.UvicornServer"),
            ("UvicornWSGIServer", "django_prodserver.backends.uvicorn.UvicornWSGIServer"),
        ),
        "uvicorn",
    ),
    Page(
        "granian.md",
        (
            ("GranianASGIServer", "django_prodserver.backends.granian.GranianASGIServer"),
            ("GranianWSGIServer", "django_prodserver.backends.granian.GranianWSGIServer"),
        ),
        "granian",
    ),
    Page(
        "waitress.md", (("WaitressServer", "django_prodserver.backends.waitress.WaitressServer"),), "waitress"
    ),
)


def _backend(path: str) -> Any:
    sys.path.insert(0, str(ROOT / "tests"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    import django

    django.setup()
    from django_prodserver.conf import parse_process
    from django_prodserver.loading import load_backend

    return load_backend(parse_process("web", {"BACKEND": path, "ARGS": {}}))


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{_cell(text)}`"


def _key(flag: str) -> str:
    return flag.lstrip("-")


def _help(option: Any) -> str:
    # gunicorn appends its default in brackets, which can come from the environment
    # (WEB_CONCURRENCY, PORT): leave it out so the page does not depend on where it was built.
    return _cell(re.sub(r"\s*\[.*\]$", "", " ".join(option.help.split())))


def _keys(option: Any) -> list[str]:
    if option.is_flag and not option.flag and option.off_flag.startswith("--no-"):
        # An off-only flag: "sendfile": False, or "no-sendfile": True.
        return [option.off_flag[len("--no-") :], _key(option.off_flag)]
    return [_key(f) for f in (option.flag, option.off_flag) if f]


def _takes(option: Any) -> str:
    if option.is_flag:
        if option.flag and option.off_flag:
            return f"on/off (False: {_code(option.off_flag)})"
        if option.flag:
            return "on/off (False: left out)"
        return f"off only (False: {_code(option.off_flag)})"
    kind = "value"
    if option.choices:
        kind += ": " + ", ".join(_code(c) for c in option.choices)
    if option.repeatable:
        kind += "; a list repeats it"
    return kind


def _prodserver_sets(backend: Any, option: Any) -> str:
    own = {**backend.production_defaults(), **backend.fixed_options()}
    values = [value for key, value in own.items() if backend.schema_dest(key) == option.dest]
    return ", ".join(_code(v) for v in values)


def option_table(backend: Any) -> list[str]:
    rows = [
        "| ARGS key | option | takes | prodserver sets | the program's help |",
        "| --- | --- | --- | --- | --- |",
    ]
    for option in sorted(backend.schema, key=lambda o: o.display_name):
        spelled = " / ".join(_code(k) for k in _keys(option))
        flags = " / ".join(_code(f) for f in (option.flag, option.off_flag) if f)
        rows.append(
            f"| {spelled} | {flags} | {_takes(option)} | {_prodserver_sets(backend, option)} | "
            f"{_help(option)} |"
        )
    return rows


def alias_table(backends: Sequence[tuple[str, Any]]) -> list[str]:
    """Spec names → the option each backend uses (in this installed version)."""
    from django_prodserver.args import resolve_key

    names = sorted({name for _, backend in backends for name in backend.aliases})
    if not names:
        return []
    labels = [label for label, _ in backends]
    rows = [
        "| spec name | " + " | ".join(labels) + " |",
        "| --- | " + " | ".join("---" for _ in labels) + " |",
    ]
    for name in names:
        cells = []
        for _, backend in backends:
            lookup = resolve_key(backend.schema, backend.aliases, name)
            if lookup is None:
                cells.append("(not an option)")
                continue
            option = lookup.option
            cells.append(_code((option.off_flag if lookup.negated else option.flag) or option.off_flag))
        rows.append(f"| {_code(name)} | " + " | ".join(cells) + " |")
    return rows


def render_block(page: Page) -> str:
    backends = [(label, _backend(path)) for label, path in page.backends]
    lines = [
        BEGIN,
        f"<!-- {page.distribution} {version(page.distribution)}: rerun the script after upgrading it -->",
    ]
    aliases = alias_table(backends)
    if aliases:
        lines += ["", "Names from the spec that the program spells differently:", "", *aliases]
    lines += ["", f"Every option of {page.distribution} {version(page.distribution)}:", ""]
    lines += option_table(backends[0][1])
    lines.append(END)
    return "\n".join(lines)


def render(page: Page, text: str) -> str:
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"docs/backends/{page.file} has no {BEGIN} … {END} markers")
    return f"{head}{render_block(page)}{tail}"


def main(argv: Sequence[str]) -> int:
    check = "--check" in argv
    stale = []
    for page in PAGES:
        path = DOCS / page.file
        text = path.read_text()
        new = render(page, text)
        if new != text:
            stale.append(path)
            if not check:
                path.write_text(new)
    for path in stale:
        print(f"{'out of date' if check else 'wrote'}: {path.relative_to(ROOT)}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

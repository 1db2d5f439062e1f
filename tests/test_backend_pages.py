"""The ARGS tables of docs/backends/{gunicorn,uvicorn,granian,waitress}.md match the installed programs.

The tables are rendered from each backend's schema by scripts/gen_backend_docs.py. When a
program upgrade adds, renames or reshapes an option, this fails until the script is rerun, so
the pages never describe a version nobody runs. (Not part of the lowest-versions run: the
pages describe the current releases.)
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gen_backend_docs.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_backend_docs", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()


@pytest.fixture(autouse=True)
def _no_platform_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("page", GENERATOR.PAGES, ids=[page.file for page in GENERATOR.PAGES])
def test_the_committed_args_table_matches_the_installed_program(page: object) -> None:
    path = GENERATOR.DOCS / page.file  # type: ignore[attr-defined]
    text = path.read_text()
    assert GENERATOR.render(page, text) == text, (
        f"docs/backends/{path.name} is out of date: run .venv/bin/python scripts/gen_backend_docs.py"
    )


def test_every_option_of_the_schema_has_a_row() -> None:
    page = next(p for p in GENERATOR.PAGES if p.file == "gunicorn.md")
    backend = GENERATOR._backend(page.backends[0][1])
    text = (GENERATOR.DOCS / page.file).read_text()
    table = text.partition(GENERATOR.BEGIN)[2].partition(GENERATOR.END)[0]
    missing = [o.flag or o.off_flag for o in backend.schema if f"`{o.flag or o.off_flag}`" not in table]
    assert missing == []
    assert "| `sendfile` / `no-sendfile` | `--no-sendfile` | off only (False: `--no-sendfile`) |" in table

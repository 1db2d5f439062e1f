"""The Celery, Django Tasks and Django-Q2 pages match the installed programs.

Their ARGS tables are generated from each program's own options (tests/worker_docs.py): an
option that disappears, changes kind or help text, or a default prodserver sets that changes,
fails here until the page is regenerated.
"""

from __future__ import annotations

import re

import pytest

from worker_docs import DOCS, MARKER, PAGES, render


@pytest.mark.parametrize("page", PAGES)
def test_the_args_tables_are_what_the_programs_say(page: str) -> None:
    text = (DOCS / page).read_text()
    assert MARKER.search(text), f"docs/backends/{page} has no ARGS table"
    assert render(text) == text, f"run: python tests/worker_docs.py (docs/backends/{page})"


@pytest.mark.parametrize("page", PAGES)
def test_the_page_names_its_backends_and_extra(page: str) -> None:
    from django.utils.module_loading import import_string

    text = (DOCS / page).read_text()
    for match in MARKER.finditer(text):
        backend = import_string(match["backend"])
        assert f'"BACKEND": "{match["backend"]}"' in text
        assert re.search(rf"pip install 'django-prodserver\[{re.escape(backend.extra)}\]'", text)

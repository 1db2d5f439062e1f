"""The Hypercorn, Daphne, uWSGI and Gunicorn+Uvicorn pages match the installed programs.

Their ARGS tables are generated from each program's own options (tests/backend_docs.py):
an option that disappears, changes kind or help text, or a production default that changes,
fails here until the page is regenerated.
"""

from __future__ import annotations

import re

import pytest

from backend_docs import DOCS, PAGES, render


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_args_table_is_what_the_program_says(page: str) -> None:
    text = (DOCS / page).read_text()
    assert render(page, text) == text, f"run: python tests/backend_docs.py (docs/backends/{page})"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_page_names_its_backend_and_extra(page: str) -> None:
    from django.utils.module_loading import import_string

    backend = import_string(PAGES[page])
    text = (DOCS / page).read_text()
    assert f'"BACKEND": "{PAGES[page]}"' in text
    assert re.search(rf"pip install 'django-prodserver\[{re.escape(backend.extra)}\]'", text)

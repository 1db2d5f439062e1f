"""Sphinx configuration for the django-prodserver documentation (``scripts/docs`` builds it).

The pages are MyST Markdown, readable as they are on GitHub; every page under docs/ is part of
the site. The build runs with warnings as errors (``-W``) and nitpicky, so a broken
cross-reference, a heading anchor that no longer exists or a page left out of every toctree
fails it.
"""

from __future__ import annotations

import os

project = "django-prodserver"
author = "django-prodserver contributors"
copyright = "django-prodserver contributors"

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# MyST: ``[text](page.md#heading)`` links are checked against the heading anchors of the page
# they point at (slugs as GitHub makes them), so the same links work on GitHub and in the site.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
nitpicky = True
suppress_warnings: list[str] = []

html_theme = "furo"
html_title = "django-prodserver"
html_static_path: list[str] = []

# Link checks. Links between pages, to their headings and to files are MyST cross-references:
# the HTML build above resolves each one and, with -W, fails on any it cannot (a missing page,
# heading anchor or file), entirely offline. External links are what the linkcheck builder is
# for, but the machines that build the docs (developers' and CI's) reach package registries
# only, so fetching them would fail every build: scripts/docs runs linkcheck with every http(s)
# URL skipped (listed in its output as "ignored"), and DOCS_LINKCHECK_EXTERNAL=1 checks them
# from a machine that is online.
linkcheck_ignore = [] if os.environ.get("DOCS_LINKCHECK_EXTERNAL") else [r"https?://"]
linkcheck_anchors = False

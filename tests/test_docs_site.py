"""The documentation site builds with warnings as errors, and its checks catch what they claim.

``scripts/docs`` is the build CI and Read the Docs run (Sphinx + MyST over docs/): an HTML
build with ``-W -n`` (a link to a missing page, heading anchor or file, or a page in no
toctree, fails it) and the link check with http(s) links skipped (CI cannot fetch them). The
suite runs it, so a page edit that breaks the site fails here rather than on the docs host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def build(docs: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``scripts/docs`` on ``docs`` (a copy of the script next to a docs/ folder of our own)."""
    scripts = docs.parent / "scripts"
    scripts.mkdir(exist_ok=True)
    if docs.parent != ROOT:
        shutil.copy(ROOT / "scripts" / "docs", scripts / "docs")
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(
        ["bash", str(scripts / "docs"), str(out)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=110,
    )


def test_every_page_builds_without_a_warning(tmp_path: Path) -> None:
    result = build(DOCS, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    pages = {p.relative_to(DOCS).with_suffix("") for p in DOCS.rglob("*.md") if "_build" not in p.parts}
    built = {p.relative_to(tmp_path / "html").with_suffix("") for p in (tmp_path / "html").rglob("*.html")}
    assert pages - built == set()


def test_a_broken_link_anchor_or_file_link_fails_the_build(tmp_path: Path) -> None:
    docs = tmp_path / "project" / "docs"
    docs.mkdir(parents=True)
    shutil.copy(DOCS / "conf.py", docs / "conf.py")
    (docs / "index.md").write_text(
        "# Home\n\n```{toctree}\nother\n```\n\n"
        "[gone](missing.md) [no such heading](other.md#nowhere) [a file](../nothing.txt)\n"
    )
    (docs / "other.md").write_text("# Other\n\n## Somewhere\n")
    (docs / "orphan.md").write_text("# In no toctree\n")
    result = build(docs, tmp_path / "out")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "missing" in output
    assert "nowhere" in output
    assert "../nothing.txt" in output
    assert "document isn't included in any toctree" in output

"""Write exported files all at once, or tell whether a directory holds exactly them.

The files are rendered in memory first, then written to a temporary directory beside the
target and moved into place, so a bad input or a full disk never leaves half an export behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from django_prodserver.export import ExportError


def _foreign(directory: Path, files: Mapping[str, str]) -> list[str]:
    """Files in ``directory`` this export would not write (other than a previous export's)."""
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise ExportError(f"--output {str(directory)!r} is a file; give a directory.")
    ours = {Path(name).parts[0] for name in files}
    return sorted(entry.name for entry in directory.iterdir() if entry.name not in ours)


def write(directory: Path, files: Mapping[str, str]) -> None:
    foreign = _foreign(directory, files)
    if foreign:
        raise ExportError(
            f"--output {str(directory)!r} already holds other files ({', '.join(foreign)}); "
            "export into an empty or new directory."
        )
    try:
        _replace(directory, files)
    except OSError as exc:  # read-only, missing permission, a path under /proc
        raise ExportError(
            f"--output {str(directory)!r}: cannot write there ({exc.strerror or exc}); "
            "choose a directory you can write to."
        ) from None


def _replace(directory: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` beside ``directory``, then move them in: a failure leaves it as it was."""
    parent = directory.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=parent))
    try:
        for name, text in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if not directory.exists():
            os.replace(staging, directory)
            return
        for name in files:
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, directory / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def stale(directory: Path, files: Mapping[str, str]) -> list[str]:
    """What differs from a fresh export: changed or missing files, and files it no longer writes."""
    changed = [
        name
        for name, text in files.items()
        if not (directory / name).is_file() or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted([*changed, *_foreign(directory, files)])

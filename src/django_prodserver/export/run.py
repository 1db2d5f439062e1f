"""What ``prodserver --export`` does with the rendered files: print, write or compare them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from django_prodserver.export import ExportError, render, writer


def export(
    fmt: str,
    names: Sequence[str],
    overrides: Sequence[str],
    output: str | None,
    *,
    check: bool,
    write: Callable[[str], object],
) -> None:
    if overrides:
        raise ExportError(
            f"--export writes what PRODUCTION_PROCESSES says; {' '.join(overrides)!r} would not be "
            "in the files: put it in the process' ARGS instead."
        )
    files = render(fmt, names)
    if output is None:
        if check:
            raise ExportError(f"--export {fmt} --check compares a directory: add --output DIR.")
        if len(files) != 1:
            raise ExportError(
                f"--export {fmt} writes {len(files)} files ({', '.join(files)}): add --output DIR."
            )
        write(next(iter(files.values())))
        return
    directory = Path(output)
    again = " ".join(["manage.py prodserver --export", fmt, *names, "--output", output])
    if check:
        differ = writer.stale(directory, files)
        if differ:
            raise ExportError(
                f"{output} is stale (changed: {', '.join(differ)}); run '{again}' and commit the result."
            )
        write(f"{output}: up to date ({', '.join(files)}).\n")
        return
    writer.write(directory, files)
    write(f"{output}: wrote {', '.join(files)}.\n")

"""Start one process in this process: validate, preflight, say what was chosen, hand over."""

from __future__ import annotations

from typing import Any

from django_prodserver.backends.base import BaseServerBackend
from django_prodserver.backends.program import ProgramBackend


def start(backend: BaseServerBackend, stderr: Any) -> None:
    if isinstance(backend, ProgramBackend):
        backend.validate()
        preflight = getattr(backend, "preflight", None)
        if preflight:
            preflight()
        for note in getattr(backend, "notes", list)():
            stderr.write(f"prodserver: {note}")
    backend.start_server(*backend.prep_server_args())

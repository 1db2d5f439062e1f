"""``manage.py server [NAME]``: 3.x's command for web processes; ``prodserver`` with one kind."""

from __future__ import annotations

from typing import ClassVar

from django_prodserver.management.commands import prodserver
from django_prodserver.resolved import Kind


class Command(prodserver.Command):
    help = (
        "Start a web process from PRODUCTION_PROCESSES (the first web process when no name is "
        "given); takes every option 'prodserver' takes. Workers run with 'manage.py worker'."
    )
    process_kind: ClassVar[Kind | None] = "server"

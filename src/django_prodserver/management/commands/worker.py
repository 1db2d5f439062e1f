"""``manage.py worker [NAME]``: 3.x's command for background workers; ``prodserver`` with one kind."""

from __future__ import annotations

from typing import ClassVar

from django_prodserver.management.commands import prodserver
from django_prodserver.resolved import Kind


class Command(prodserver.Command):
    help = (
        "Start a worker from PRODUCTION_PROCESSES (the first worker when no name is given); "
        "takes every option 'prodserver' takes. Web processes run with 'manage.py server'."
    )
    process_kind: ClassVar[Kind | None] = "worker"

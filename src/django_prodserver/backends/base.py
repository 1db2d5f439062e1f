"""The public extension API for backends.

Backends written for the public django-prodserver keep working: they are constructed with
the process' config as keyword arguments, ``self.args`` holds the ARGS as ``--key=value``
strings, ``prep_server_args()`` returns the argv and ``start_server(*args)`` starts the
program. Everything else here has a harmless default so such a backend gets ``--list``,
``--dry-run`` and the supervisor for free.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django_prodserver.args import raw_argv

if TYPE_CHECKING:
    from django_prodserver.conf import ProcessConfig
    from django_prodserver.errors import ProdserverError


class BaseServerBackend:
    #: Shown by ``--list``/``--dry-run``; schema-driven backends name their program.
    program: str = ""

    def __init__(self, **server_args: Any) -> None:
        self.server_args = server_args
        self.args: list[str] = self._format_server_args_from_dict(server_args.get("ARGS"))
        self.process: ProcessConfig | None = None
        #: Options given after the process name on the command line.
        self.overrides: list[str] = []

    @classmethod
    def from_config(cls, process: ProcessConfig, overrides: Sequence[str] = ()) -> BaseServerBackend:
        backend = cls(**process.raw)
        backend.process = process
        backend.overrides = list(overrides)
        return backend

    @property
    def name(self) -> str:
        return self.process.name if self.process else type(self).__name__

    def _format_server_args_from_dict(
        self, args: Mapping[str, Any] | Sequence[str] | str | None
    ) -> list[str]:
        if not args:
            return []
        if isinstance(args, Mapping):
            return [f"--{key}={value}" for key, value in args.items()]
        return raw_argv(args)

    def prep_server_args(self) -> list[str]:
        return [*self.args, *self.overrides]

    def start_server(self, *args: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement start_server(*args)")

    def command(self) -> list[str]:
        """The equivalent shell command, for ``--list``, ``--dry-run`` and exporters."""
        return [self.program or type(self).__name__, *self.prep_server_args()]

    def shell_command(self) -> str:
        return shlex.join(self.command())

    def check(self) -> list[ProdserverError]:
        """Problems found without starting anything; empty when all is well."""
        return []

    def describe(self) -> list[tuple[str, str, str]]:
        """(option, value, source) rows for ``--dry-run``; custom backends show their argv."""
        return [(arg, "", "ARGS") for arg in self.prep_server_args()]

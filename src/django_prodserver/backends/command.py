"""Any management command as a process: ``"ARGS": ["migrate", "--noinput"]``.

Mostly for one-shot release steps (``migrate``, ``collectstatic``) that ``prodserver --all``
runs to completion before starting the servers (``"ONESHOT": True``). The command's own
argparse parser is the schema: a typo in ARGS is reported by the system checks, before
anything starts, with the parser's own words.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from django_prodserver.args import raw_argv
from django_prodserver.backends.program import ProgramBackend
from django_prodserver.backends.worker import ManagementCommandBackend
from django_prodserver.errors import OptionError
from django_prodserver.schemas import OptionSchema

if TYPE_CHECKING:
    from django.core.management.base import BaseCommand

    from django_prodserver.resolved import Resolved


class ManagementCommand(ManagementCommandBackend):
    module = "django"
    distribution = "Django"
    # A command that runs and exits (migrate, collectstatic): nothing to keep alive.
    records_heartbeat = False
    completes = True

    def __init__(self, **server_args: Any) -> None:
        super().__init__(**server_args)
        args = server_args.get("ARGS")
        tokens = raw_argv(args) if isinstance(args, (str, list, tuple)) else []
        # The command named first in ARGS; messages then read "… is not a migrate option".
        self.program = tokens[0] if tokens else "manage.py"

    def _all_args(self) -> list[str]:
        tokens = ProgramBackend._raw_args(self)
        if not tokens:
            where = self.process.setting_path("ARGS") if self.process else "ARGS"
            raise OptionError(
                f"Process {self.name!r}: ManagementCommand runs the command named first in {where}; "
                "write it as a list, e.g. ['migrate', '--noinput']."
            )
        return tokens

    def _raw_args(self) -> list[str]:
        """The command's own arguments: ARGS after the command name."""
        return self._all_args()[1:]

    def _dict_args(self) -> None:
        return None

    def management_command(self) -> BaseCommand:
        from django.core.management import get_commands, load_command_class

        name = self._all_args()[0]
        commands = get_commands()
        if name not in commands:
            close = difflib.get_close_matches(name, commands, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "see 'manage.py help' for the commands."
            raise OptionError(f"Process {self.name!r}: {name!r} is not a management command; {hint}")
        app = commands[name]
        command: BaseCommand = app if not isinstance(app, str) else load_command_class(app, name)
        return command

    def validate_resolved(self, resolved: Resolved) -> None:
        super().validate_resolved(resolved)
        self._refuse_starting_processes(list(resolved.argv))

    def _refuse_starting_processes(self, argv: list[str]) -> None:
        """prodserver's own commands start processes, inside this one or this very one again,
        for ever; run so, only what starts nothing (``prodserver --check``) is allowed."""
        from django.core.management import get_commands

        from django_prodserver.management.commands.prodserver import STARTS_NOTHING

        name = self._all_args()[0]
        if get_commands().get(name) != "django_prodserver":
            return
        options = vars(self.parser().parse_args(argv))  # validate() has just parsed it
        if not any(options.get(option) for option in STARTS_NOTHING):
            raise OptionError(
                f"Process {self.name!r}: ManagementCommand cannot start processes with {name!r}; "
                "give each process its own entry in PRODUCTION_PROCESSES and run them together "
                "with 'prodserver --all'."
            )

    @property
    def schema(self) -> OptionSchema:
        # One schema per command, not one per backend class as for the programs.
        return self.load_schema()

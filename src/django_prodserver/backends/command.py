"""Any management command as a process: ``"ARGS": ["migrate", "--noinput"]``.

Mostly for one-shot release steps (``migrate``, ``collectstatic``) that ``prodserver --all``
runs to completion before starting the servers (``"ONESHOT": True``). The command's own
argparse parser is the schema: a typo in ARGS is reported by the system checks, before
anything starts, with the parser's own words.
"""

from __future__ import annotations

import difflib
from typing import Any

from django_prodserver.args import raw_argv
from django_prodserver.backends.program import ParserRejected, ProgramBackend
from django_prodserver.errors import OptionError
from django_prodserver.schemas import OptionSchema, from_argparse


class ManagementCommand(ProgramBackend):
    module = "django"
    extra = ""

    def __init__(self, **server_args: Any) -> None:
        super().__init__(**server_args)
        args = server_args.get("ARGS")
        tokens = raw_argv(args) if isinstance(args, (str, list, tuple)) else []
        #: Named in messages: "'--frob' is not a manage.py migrate option".
        self.program = f"manage.py {tokens[0]}" if tokens else "manage.py"

    @property
    def command_name(self) -> str:
        tokens = super()._raw_args()
        if not tokens:
            where = self.process.setting_path("ARGS") if self.process else "ARGS"
            raise OptionError(
                f"Process {self.name!r}: ManagementCommand runs the command named first in {where}; "
                "write it as a list, e.g. ['migrate', '--noinput']."
            )
        return tokens[0]

    def _raw_args(self) -> list[str]:
        """The command's own arguments: ARGS after the command name."""
        return (super()._raw_args() or [])[1:]

    def _dict_args(self) -> None:
        return None

    def _command(self) -> Any:
        from django.core.management import get_commands, load_command_class

        name = self.command_name
        commands = get_commands()
        if name not in commands:
            close = difflib.get_close_matches(name, commands, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "see 'manage.py help' for the commands."
            raise OptionError(f"Process {self.name!r}: {name!r} is not a management command; {hint}")
        app = commands[name]
        return app if not isinstance(app, str) else load_command_class(app, name)

    def _parser(self) -> Any:
        return self._command().create_parser("manage.py", self.command_name)

    def load_schema(self) -> OptionSchema:
        return from_argparse(self.program, self._parser())

    @property
    def schema(self) -> OptionSchema:
        # One schema per command, not one per backend class as for the programs.
        return self.load_schema()

    def parse(self, argv: list[str]) -> None:
        from django.core.management import CommandError

        try:
            self._parser().parse_args(argv)
        except CommandError as exc:
            raise ParserRejected(str(exc).removeprefix("Error: ")) from None

    def command(self) -> list[str]:
        return ["manage.py", self.command_name, *self.prep_server_args()]

    def run(self, argv: list[str]) -> int:
        from django.core.management import call_command

        call_command(self._command(), *argv)
        return 0

"""Development servers that are runserver-style management commands, run in this process.

The command's own parser is the schema: an ARGS key becomes the option of that name
(``{"noreload": True}`` → ``--noreload``, ``"addrport"`` the positional address), and a key
the command does not know is reported by the checks with the parser's own words. Running the
command itself keeps every behaviour of ``runserver`` (autoreload, static files, the banner).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from django_prodserver.args import is_unset, raw_argv
from django_prodserver.backends.base import BaseServerBackend
from django_prodserver.errors import OptionError
from django_prodserver.importing import require
from django_prodserver.resolved import Resolved, Row

if TYPE_CHECKING:
    from django.core.management.base import BaseCommand


class RunserverBackend(BaseServerBackend):
    development = True
    #: Configured through ARGS only, as in 3.x: options on the command line are an error.
    accepts_extra_args = False
    program = "runserver"
    #: (module, what it is) the command needs, e.g. ("daphne", "Daphne").
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: The ``pip install 'django-prodserver[extra]'`` that installs what ``requires`` names.
    extra: ClassVar[str] = ""

    def command_app(self) -> str:
        """The app whose management command we run."""
        from django.apps import apps

        staticfiles = "django.contrib.staticfiles"
        return staticfiles if apps.is_installed(staticfiles) else "django.core"

    def management_command(self) -> BaseCommand:
        from django.core.management import load_command_class

        for module, what in self.requires:
            require(module, process=self.name, backend=type(self).__name__, what=what, extra=self.extra)
        return load_command_class(self.command_app(), self.program)

    def parser(self) -> argparse.ArgumentParser:
        return self.management_command().create_parser("manage.py", self.program)

    def _option(self, parser: argparse.ArgumentParser, key: str) -> argparse.Action | None:
        known = parser._option_string_actions
        return known.get(f"--{key}") or known.get(f"--{key.replace('_', '-')}")

    def _argv(self) -> list[str]:
        args = self.process.args if self.process else self.server_args.get("ARGS")
        if not isinstance(args, Mapping):
            return raw_argv(args) if args else []
        parser = self.parser()
        options: list[str] = []
        positional: list[str] = []
        for key, value in args.items():
            if key == "addrport":
                positional += [] if is_unset(value) else [str(value)]
                continue
            action = self._option(parser, key)
            flag = action.option_strings[-1] if action else f"--{key}"
            if action is not None and action.nargs == 0:
                # On/off: True (or "true") turns it on; anything else leaves runserver's default.
                options += [flag] if str(value).lower() in ("true", "1", "yes", "on") else []
            elif not is_unset(value) and value is not False:
                options.append(f"{flag}={value}")
        return [*options, *positional]

    def _resolve(self) -> Resolved:
        argv = tuple(self._argv())
        return Resolved(
            name=self.name,
            program=self.program,
            kind=self.kind,
            argv=argv,
            command=("python", "manage.py", self.program, *argv),
            rows=tuple(Row(arg, "ARGS", "ARGS") for arg in argv),
        )

    def validate(self) -> None:
        from django.core.management import CommandError

        argv = list(self.resolve().argv)
        try:
            self.parser().parse_args(argv)
        except CommandError as exc:
            where = self.process.setting_path("ARGS") if self.process else "ARGS"
            message = str(exc).removeprefix("Error: ")
            raise OptionError(
                f"Process {self.name!r}: {where} is rejected by {self.program}: {message}"
            ) from None

    def prep_server_args(self) -> list[str]:
        return list(self.resolve().argv)

    def start_server(self, *args: str) -> None:
        from django.core.management import call_command

        call_command(self.management_command(), *args)

"""The schema-driven backend every built-in program backend derives from.

A backend names its program, how to read that program's parser (``load_schema``), what it
must always pass (``fixed_options``, ``positional``), and how to run it in this process. The
rest is derived here, once: ARGS translation, command-line overrides, the platform contract
(``PORT``/``WEB_CONCURRENCY``/…), production defaults, validation by the program's own
parser, ``--dry-run`` provenance and the shell-equivalent command.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from django_prodserver.args import (
    Setting,
    TranslationError,
    is_unset,
    option_argv,
    parse_overrides,
    raw_argv,
    resolve_key,
)
from django_prodserver.backends.base import BaseServerBackend
from django_prodserver.errors import OptionError, ProdserverError, ProgramNotInstalled
from django_prodserver.schemas import Lookup, OptionSchema, normalize_key

_SCHEMAS: dict[type, OptionSchema] = {}


class ParserRejected(Exception):
    """The program's own parser refused an argv; ``str()`` is the program's message."""


class EnvValue:
    """A value taken from the environment, remembered with the variable it came from."""

    def __init__(self, value: Any, variable: str) -> None:
        self.value = value
        self.variable = variable


class ProgramBackend(BaseServerBackend):
    #: Importable module whose absence means "not installed".
    module: ClassVar[str] = ""
    #: The ``pip install 'django-prodserver[extra]'`` that installs the program.
    extra: ClassVar[str] = ""
    #: Names the spec documents that differ from the program's own (normalized key → real key).
    aliases: ClassVar[Mapping[str, str]] = {}
    #: Options that only make sense together (e.g. host/port): when ARGS or the command line
    #: set any of them, weaker sources (environment, defaults) set none of them.
    option_groups: ClassVar[Sequence[frozenset[str]]] = ()

    # ----- what each program supplies -------------------------------------------------

    def load_schema(self) -> OptionSchema:
        raise NotImplementedError

    def fixed_options(self) -> Mapping[str, Any]:
        """Options the backend needs to serve the app right (e.g. the interface)."""
        return {}

    def positional(self) -> list[str]:
        """Positional arguments after the options (the app target)."""
        return []

    def defaults(self) -> Mapping[str, Any]:
        """Production defaults, applied when nothing else sets the option."""
        return {}

    def environment(self, environ: Mapping[str, str]) -> Mapping[str, EnvValue]:
        """The platform contract: options derived from environment variables."""
        return {}

    def program_environment_dests(self) -> set[str]:
        """Options the program itself reads from its own environment variables.

        Our defaults and platform contract step aside for these, so ``GRANIAN_WORKERS=3``
        keeps meaning what the program's docs say.
        """
        return set()

    def config_file(self) -> str | None:
        """The program's own config file, when the user gave one (ARGS or command line).

        Command-line options beat a program's config file, so with one in play we add no
        defaults and no environment-derived options: the file says what the user wants.
        """
        for setting in self._override_settings():
            if setting.option.dest == "config" and not is_unset(setting.value):
                return str(setting.value)
        for key, value in (self._dict_args() or {}).items():
            lookup = resolve_key(self.schema, self.aliases, str(key))
            if lookup is not None and lookup.option.dest == "config" and not is_unset(value):
                return str(value)
        return None

    def adapt(self, key: str, value: Any) -> tuple[str, Any]:
        """Map a documented spelling onto today's option when a plain alias is not enough."""
        return key, value

    def parse(self, argv: list[str]) -> None:
        """Run the program's own parser over ``argv`` without starting anything."""

    def run(self, argv: list[str]) -> int:
        """Start the program in this process; return its exit status."""
        raise NotImplementedError

    # ----- derived -----------------------------------------------------------------------

    def ensure_installed(self) -> None:
        try:
            __import__(self.module)
        except ModuleNotFoundError as exc:
            if exc.name and self.module.split(".")[0] == exc.name.split(".")[0]:
                raise ProgramNotInstalled(
                    f"Process {self.name!r} uses {type(self).__name__}, but {self.program} is not "
                    f"installed: pip install 'django-prodserver[{self.extra}]'"
                ) from None
            raise

    @property
    def schema(self) -> OptionSchema:
        cls = type(self)
        if cls not in _SCHEMAS:
            self.ensure_installed()
            _SCHEMAS[cls] = self.load_schema()
        return _SCHEMAS[cls]

    def _where(self, key: str) -> str:
        return f"ARGS[{key!r}]"

    def _lookup(self, key: str, where: str) -> Lookup:
        lookup = resolve_key(self.schema, self.aliases, key)
        if lookup is None:
            raise OptionError(f"Process {self.name!r}: {where} {self._unknown(key)}")
        return lookup

    def _unknown(self, key: str) -> str:
        suggestions = self.schema.suggest(self.aliases.get(normalize_key(key), key))
        hint = (
            "did you mean " + " or ".join(", ".join(map(repr, suggestions)).rsplit(", ", 1)) + "?"
            if suggestions
            else f"see '{self.program} --help' for its options."
        )
        return f"is not a {self.program} option; {hint}"

    def _setting(self, key: str, value: Any, source: str, origin: str) -> Setting:
        lookup = self._lookup(key, origin if source != "ARGS" else "ARGS key " + repr(key))
        setting = Setting(key, lookup, value, source, origin)
        try:
            setting.argv()
        except TranslationError as exc:
            raise OptionError(f"Process {self.name!r}: {origin} = {value!r}: {exc}.") from None
        return setting

    def _dict_args(self) -> Mapping[str, Any] | None:
        args = self.process.args if self.process else self.server_args.get("ARGS")
        return args if isinstance(args, Mapping) else None

    def _raw_args(self) -> list[str] | None:
        args = self.process.args if self.process else self.server_args.get("ARGS")
        return raw_argv(args) if isinstance(args, (str, list, tuple)) else None

    def settings(self) -> list[Setting]:
        """Every option with its value and source, strongest source last applied."""
        layers: list[list[Setting]] = []
        fixed = [
            self._setting(k, v, "backend", f"backend option {k!r}") for k, v in self.fixed_options().items()
        ]
        raw = self._raw_args()
        # First, before anything imports the program: gunicorn reads WEB_CONCURRENCY with
        # int() while its config module loads, so a malformed value must be reported by us.
        environment = self.environment(os.environ) if raw is None else {}
        if raw is None and not self.config_file():
            own = self.program_environment_dests()
            # A production default the installed version does not have yet simply does not apply.
            weak = [
                self._setting(k, v, "default", f"default {k!r}")
                for k, v in self.defaults().items()
                if resolve_key(self.schema, self.aliases, k) is not None
            ]
            weak += [
                self._setting(k, e.value, "environment", f"environment {e.variable}")
                for k, e in environment.items()
            ]
            layers.append([s for s in weak if s.source == "default" and s.option.dest not in own])
            layers.append([s for s in weak if s.source == "environment" and s.option.dest not in own])
        layers.append(fixed)
        if raw is None:
            layers.append(
                [
                    self._setting(*self.adapt(str(k), v), "ARGS", self._where(str(k)))
                    for k, v in (self._dict_args() or {}).items()
                ]
            )
        layers.append(self._override_settings())
        return self._merge(layers)

    def _override_settings(self) -> list[Setting]:
        def takes_value(key: str) -> bool:
            # An unknown key keeps the token after it, so the error names the key
            # ("--wrkers 3": not a gunicorn option) rather than the stray value.
            lookup = resolve_key(self.schema, self.aliases, key)
            return lookup is None or lookup.option.takes_value

        try:
            parsed = parse_overrides(self.overrides, takes_value)
        except TranslationError as exc:
            raise OptionError(f"Process {self.name!r}: command line: {exc}.") from None
        return [
            self._setting(key, value, "command line", f"command-line option {token!r}")
            for key, value, token in parsed
        ]

    def _merge(self, layers: list[list[Setting]]) -> list[Setting]:
        """Later layers win. Within an option group (e.g. host/port) a value the user set
        (ARGS, command line) or the backend needs owns the whole group: a ``PORT`` from the
        environment must not add a second address next to the ``bind`` in ARGS."""
        strong = {"ARGS", "command line", "backend"}
        merged: dict[str, Setting] = {}
        for layer in layers:
            for setting in layer:
                dest = setting.option.dest
                group = frozenset().union(*(g for g in self.option_groups if dest in g))
                if setting.source in strong:
                    for other in group & merged.keys():
                        if merged[other].source not in strong:
                            del merged[other]
                elif any(merged[other].source in strong for other in group & merged.keys()):
                    continue
                entry = setting
                previous = merged.get(dest)
                if previous and setting.option.repeatable and previous.source == setting.source:
                    entry = replace(previous, value=_as_list(previous.value) + _as_list(setting.value))
                merged[dest] = entry
        return list(merged.values())

    def prep_server_args(self) -> list[str]:
        raw = self._raw_args()
        argv: list[str] = []
        if raw is not None:
            fixed = [s for s in self.settings() if s.source == "backend"]
            for setting in fixed:
                argv += setting.argv()
            argv += raw
            argv += [a for s in self.settings() if s.source == "command line" for a in s.argv()]
        else:
            for setting in self.settings():
                argv += setting.argv()
        return [*argv, *self.positional()]

    def command(self) -> list[str]:
        return [self.program, *self.prep_server_args()]

    def describe(self) -> list[tuple[str, str, str]]:
        rows = []
        for setting in self.settings():
            rows.append(
                (
                    " ".join(setting.argv()) or f"(off) {setting.option.display_name}",
                    setting.origin,
                    setting.source,
                )
            )
        return rows

    def validate(self) -> list[str]:
        """Translate and run the program's parser; raise :class:`OptionError` naming the culprit."""
        argv = self.prep_server_args()
        try:
            self.parse(argv)
        except ParserRejected as exc:
            raise self._locate(exc) from None
        return argv

    def _locate(self, error: ParserRejected) -> ProdserverError:
        """Find which single setting the parser rejects, so the message names the user's key."""
        positional = self.positional()
        fixed = [a for s in self.settings() if s.source == "backend" for a in s.argv()]
        for setting in self.settings():
            if setting.source == "backend":
                continue
            try:
                self.parse([*fixed, *setting.argv(), *positional])
            except ParserRejected as exc:
                return OptionError(
                    f"Process {self.name!r}: {setting.origin} = {setting.value!r} is rejected by "
                    f"{self.program}: {exc}"
                )
        return OptionError(f"Process {self.name!r}: {self.program} rejects the options: {error}")

    def check(self) -> list[ProdserverError]:
        try:
            self.validate()
        except ProdserverError as exc:
            return [exc]
        return []

    def start_server(self, *args: str) -> None:
        status = self.run(list(args))
        if status:
            raise SystemExit(status)

    def shell_command(self) -> str:
        return shlex.join(self.command())


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


__all__ = ["EnvValue", "ParserRejected", "ProgramBackend", "option_argv"]

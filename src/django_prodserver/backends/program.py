"""The schema-driven backend every built-in program backend derives from.

A backend names its program, how to read that program's parser (``load_schema``), what it
must always pass (``fixed_options``, ``positional``), and how to run it in this process. The
rest is derived here, once per process in :meth:`ProgramBackend._resolve`: ARGS translation,
command-line overrides, the platform contract (``PORT``/``WEB_CONCURRENCY``/…), production
defaults, provenance and the shell-equivalent command. Validation runs the program's own
parser over the resolved argv.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any, ClassVar

from django_prodserver.args import (
    STRONG_SOURCES,
    Setting,
    Source,
    TranslationError,
    is_unset,
    parse_overrides,
    raw_argv,
    resolve_key,
)
from django_prodserver.backends.base import BaseProcessBackend
from django_prodserver.errors import OptionError, not_installed
from django_prodserver.importing import is_missing
from django_prodserver.resolved import Resolved, Row, Serving
from django_prodserver.schemas import Lookup, OptionSchema, normalize_key

_SCHEMAS: dict[type, OptionSchema] = {}


class ParserRejected(Exception):
    """The program's own parser refused an argv; ``str()`` is the program's message."""


class EnvValue:
    """A value taken from the environment, remembered with the variable it came from."""

    def __init__(self, value: Any, variable: str) -> None:
        self.value = value
        self.variable = variable


class ProgramBackend(BaseProcessBackend):
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

    def find_config_file(self) -> str | None:
        """The program's own config file, when the user gave one (ARGS or command line).

        Command-line options beat a program's config file, so with one in play we add no
        defaults and no environment-derived options: the file says what the user wants.
        """
        setting = self.requested.get("config")
        return None if setting is None or is_unset(setting.value) else str(setting.value)

    def adapt(self, key: str, value: Any) -> tuple[str, Any]:
        """Map a documented spelling onto today's option when a plain alias is not enough."""
        return key, value

    def parse(self, argv: list[str]) -> None:
        """Run the program's own parser over ``argv`` without starting anything."""

    def run(self, argv: list[str]) -> int:
        """Start the program in this process; return its exit status."""
        raise NotImplementedError

    # ----- derived -----------------------------------------------------------------------

    #: What "not installed" names: the distribution people install (the program may be a
    #: subcommand, e.g. "celery worker").
    distribution: ClassVar[str] = ""

    def ensure_installed(self) -> None:
        self.require_module(self.module, self.distribution or self.program)

    def require_module(self, module: str, what: str) -> None:
        """Import ``module``; when it is missing, say which extra installs ``what``."""
        try:
            __import__(module)
        except ModuleNotFoundError as exc:
            if is_missing(exc, module):
                raise not_installed(self.name, type(self).__name__, what, self.extra) from None
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

    def _setting(self, key: str, value: Any, source: Source, origin: str) -> Setting:
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

    # ----- resolution: what the user asked for, then the value everything reads ----------

    @cached_property
    def user_settings(self) -> tuple[list[Setting], list[Setting]]:
        """The ARGS (dict form) and the command-line overrides, translated but not merged."""
        args = [
            self._setting(*self.adapt(str(k), v), "ARGS", self._where(str(k)))
            for k, v in (self._dict_args() or {}).items()
        ]
        return args, self._override_settings()

    @cached_property
    def requested(self) -> Mapping[str, Setting]:
        """What the backend needs and the user set (no environment, no defaults), by dest.

        The first stage of resolution: what decides the rest (a config file, gunicorn's
        worker class and so the application it serves) is read from here.
        """
        fixed = [
            self._setting(k, v, "backend", f"backend option {k!r}") for k, v in self.fixed_options().items()
        ]
        return {s.option.dest: s for s in self._merge([fixed, *self.user_settings])}

    def _resolve(self) -> Resolved:
        # Resolving reads the program's own parser: a missing program is one line, never the
        # ModuleNotFoundError of whichever helper imports it first.
        self.ensure_installed()
        raw = self._raw_args()
        # First, before anything imports the program: gunicorn reads WEB_CONCURRENCY with
        # int() while its config module loads, so a malformed value must be reported by us.
        environment = self.environment(os.environ) if raw is None else {}
        args, command_line = self.user_settings
        fixed = [s for s in self.requested.values() if s.source == "backend"]
        config = self.find_config_file()
        layers: list[list[Setting]] = []
        if raw is None and config is None:
            own = self.program_environment_dests()
            # A production default the installed version does not have yet simply does not apply.
            defaults = [
                self._setting(k, v, "default", f"default {k!r}")
                for k, v in self.defaults().items()
                if resolve_key(self.schema, self.aliases, k) is not None
            ]
            from_environment = [
                self._setting(k, e.value, "environment", f"environment {e.variable}")
                for k, e in environment.items()
            ]
            layers += [
                [s for s in layer if s.option.dest not in own] for layer in (defaults, from_environment)
            ]
        settings = self._merge([*layers, fixed, args, command_line])
        if raw is None:
            argv = [a for s in settings for a in s.argv()]
        else:
            argv = [*(a for s in fixed for a in s.argv()), *raw, *(a for s in command_line for a in s.argv())]
        argv += self.positional()
        options = {s.option.dest: s for s in settings}
        resolved = Resolved(
            name=self.name,
            program=self.program,
            kind=self.kind,
            argv=tuple(argv),
            command=tuple(self.equivalent_command(argv)),
            options=options,
            config_file=config,
            serving=self.serving(options),
        )
        return replace(resolved, rows=tuple(self.rows(resolved)), notes=tuple(self.explain(resolved)))

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

    def _merge(self, layers: Sequence[Sequence[Setting]]) -> list[Setting]:
        """Later layers win. Within an option group (e.g. host/port) a value the user set
        (ARGS, command line) or the backend needs owns the whole group: a ``PORT`` from the
        environment must not add a second address next to the ``bind`` in ARGS."""
        merged: dict[str, Setting] = {}
        for layer in layers:
            for setting in layer:
                dest = setting.option.dest
                group = frozenset().union(*(g for g in self.option_groups if dest in g))
                if setting.source in STRONG_SOURCES:
                    for other in group & merged.keys():
                        if merged[other].source not in STRONG_SOURCES:
                            del merged[other]
                elif any(merged[other].source in STRONG_SOURCES for other in group & merged.keys()):
                    continue
                entry = setting
                previous = merged.get(dest)
                if previous and setting.option.repeatable and previous.source == setting.source:
                    entry = replace(previous, value=_as_list(previous.value) + _as_list(setting.value))
                merged[dest] = entry
        return list(merged.values())

    # ----- hooks that shape the resolved value ---------------------------------------------

    def equivalent_command(self, argv: Sequence[str]) -> list[str]:
        """The shell command that runs the same program with ``argv``."""
        return [self.program, *argv]

    def serving(self, options: Mapping[str, Setting]) -> Serving | None:
        """What a web server serves and where; None for processes that serve no HTTP."""
        return None

    def rows(self, resolved: Resolved) -> list[Row]:
        return [
            Row(" ".join(s.argv()) or f"(off) {s.option.display_name}", s.source, s.origin)
            for s in resolved.options.values()
        ]

    def explain(self, resolved: Resolved) -> list[str]:
        """The start-up notes: choices prodserver made that the user may want to know about."""
        return []

    # ----- the lifecycle ---------------------------------------------------------------------

    _valid = False

    def preconditions(self) -> None:
        """Raise a :class:`ProdserverError` for what must hold before the parser can run."""

    def validate(self) -> None:
        """Run the program's own parser over the resolved argv, naming the culprit on failure.

        Once it passed it is not run again on this backend: the checks and the start share it.
        """
        if self._valid:
            return
        self.preconditions()
        resolved = self.resolve()
        try:
            self.parse(list(resolved.argv))
        except ParserRejected as exc:
            raise self._locate(exc, resolved) from None
        self.validate_resolved(resolved)
        self._valid = True

    def validate_resolved(self, resolved: Resolved) -> None:
        """Checks the program's parser does not make (it would fail only after start-up)."""

    def _locate(self, error: ParserRejected, resolved: Resolved) -> OptionError:
        """Find which single setting the parser rejects, so the message names the user's key."""
        positional = self.positional()
        settings = resolved.options.values()
        fixed = [a for s in settings if s.source == "backend" for a in s.argv()]
        for setting in settings:
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

    def prep_server_args(self) -> list[str]:
        return list(self.resolve().argv)

    def start_server(self, *args: str) -> None:
        status = self.run(list(args))
        if status:
            raise SystemExit(status)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


__all__ = ["EnvValue", "ParserRejected", "ProgramBackend"]

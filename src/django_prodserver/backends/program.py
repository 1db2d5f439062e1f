"""The schema-driven backend every built-in program backend derives from.

A backend names its program, how to read that program's parser (``load_schema``), what it
must always pass (``fixed_options``, ``positional``), and how to run it in this process. The
rest is derived here, once per process in :meth:`ProgramBackend._resolve`: ARGS translation,
command-line overrides, the platform contract (``PORT``/``WEB_CONCURRENCY``/…), production
defaults, provenance and the shell-equivalent command. Validation runs the program's own
parser over the resolved argv.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from django_prodserver.args import (
    Setting,
    Source,
    TranslationError,
    is_unset,
    parse_overrides,
    raw_argv,
    resolve_key,
)
from django_prodserver.backends._parsers import ParserRejected
from django_prodserver.backends.base import BaseProcessBackend
from django_prodserver.backends.layers import merge
from django_prodserver.errors import OptionError, PlatformValueError
from django_prodserver.importing import require
from django_prodserver.masking import mask_argv, mask_text, mask_value
from django_prodserver.records import replace
from django_prodserver.resolved import Resolved, Row, Serving
from django_prodserver.schemas import Lookup, OptionSchema, normalize_key

_SCHEMAS: dict[type, OptionSchema] = {}


class EnvValue:
    """A value taken from the environment, remembered with the variable it came from.

    ``problem`` is set for a variable the server cannot use (``PORT=abc``): it is raised only
    if the value is used, so an ARGS port that makes ``PORT`` step aside leaves it unread.
    """

    def __init__(self, value: Any, variable: str, problem: PlatformValueError | None = None) -> None:
        self.value = value
        self.variable = variable
        self.problem = problem


class ProgramBackend(BaseProcessBackend):
    #: Importable module whose absence means "not installed".
    module: ClassVar[str] = ""
    #: The ``pip install 'django-prodserver[extra]'`` that installs the program.
    extra: ClassVar[str] = ""
    #: Names the spec documents that differ from the program's own (normalized key → real key).
    aliases: ClassVar[Mapping[str, str]] = {}
    #: Options that only make sense together (e.g. host/port): when ARGS or the command line
    #: set any of them (but a host alone, see ``host_options``), weaker sources (environment,
    #: defaults) set none of them.
    option_groups: ClassVar[Sequence[frozenset[str]]] = ()
    #: Options of a group that name an interface but no port (``host``): set by the user they
    #: replace only themselves, so ``PORT`` still supplies the port (uvicorn ``{"host":
    #: "0.0.0.0"}`` listens on ``$PORT``, not 8000).
    host_options: ClassVar[frozenset[str]] = frozenset()
    #: Options (normalized names) that make the program detach into the background: out of
    #: reach of the supervisor and of every later stop signal, so they are refused.
    detaching_options: ClassVar[frozenset[str]] = frozenset()
    #: Their short spellings, which only raw ARGS (a string or list) can use (uWSGI's ``-d``).
    detaching_short_flags: ClassVar[frozenset[str]] = frozenset()
    #: The option that bounds the stop: seconds work in flight gets after the stop signal
    #: (gunicorn's ``graceful-timeout``). Its resolved value is ``Resolved.graceful_seconds``,
    #: which the exports wait for before SIGKILL; None when no option bounds it.
    graceful_option: ClassVar[str | None] = None
    #: For a program with no such option, whose graceful stop prodserver runs itself (waitress,
    #: daphne): the seconds that stop gives work in flight, reported the same way.
    graceful_timeout: ClassVar[float | None] = None

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

    def program_environment(self) -> Mapping[str, str]:
        """Options the program itself reads from its own environment variables set here:
        dest → the variable.

        Our defaults and platform contract step aside for these, so ``GRANIAN_WORKERS=3``
        keeps meaning what the program's docs say.
        """
        return {}

    def find_config_file(self) -> str | None:
        """The program's own config file, when the user gave one (ARGS or command line).

        Command-line options beat a program's config file, so with one in play we add no
        defaults and no environment-derived options: the file says what the user wants.
        """
        setting = self.requested.get("config")
        return None if setting is None or is_unset(setting.value) else str(setting.value)

    def with_port(self, setting: Setting, port: Setting) -> Setting | None:
        """``setting`` (the user's) with the port of ``port`` (the environment's ``PORT``), when
        ``setting`` names a host without a port in an option that takes both (gunicorn's
        ``bind: "0.0.0.0"``); None when the user's value has a port of its own."""
        return None

    def graceful(self, options: Mapping[str, Setting]) -> tuple[float | None, str]:
        """Seconds the program gives work in flight after the stop signal, and where that is set.

        ``graceful_timeout`` where prodserver runs the stop itself, else the resolved value of
        ``graceful_option``; (None, "") when nothing prodserver can read sets it (a config file,
        ARGS as a string) or it says "no bound".
        """
        if self.graceful_timeout is not None:
            return self.graceful_timeout, f"prodserver's {self.module} backend"
        key = self.graceful_option
        lookup = resolve_key(self.schema, self.aliases, key) if key else None
        setting = options.get(lookup.option.dest) if lookup else None
        if setting is None or is_unset(setting.value):
            return None, ""
        try:
            return float(setting.value), setting.origin
        except (TypeError, ValueError):
            return None, ""  # not a number: the program's own parser reports it

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
        require(module, process=self.name, backend=type(self).__name__, what=what, extra=self.extra)

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

    def _detaching(self, where: str) -> OptionError:
        return OptionError(
            f"Process {self.name!r}: {where} is refused: it makes {self.program} detach into the "
            "background, beyond the reach of prodserver's supervisor and of every later stop "
            "signal; remove it (the supervisor, systemd or the platform keeps the process running)."
        )

    def _refuse_detaching(self, argv: Sequence[str]) -> None:
        """ARGS given as a string reach the program's parser as they are: look for the same."""
        for token in argv:
            if token.partition("=")[0] in self.detaching_short_flags:
                raise self._detaching(f"ARGS option {token!r}")
            if not token.startswith("--"):
                continue
            lookup = resolve_key(self.schema, self.aliases, token.partition("=")[0])
            if lookup is not None and lookup.option.display_name in self.detaching_options:
                raise self._detaching(f"ARGS option {token!r}")

    def _unknown(self, key: str) -> str:
        if key[:1] == "-" and key[1:2].isalpha():
            # Short forms (-w, -w3) are left out of the schema: a letter suggests nothing useful.
            return (
                f"is a short option, and prodserver reads options by their long names; write the "
                f"long form that '{self.program} --help' lists beside {key[:2]}."
            )
        suggestions = self.schema.suggest(self.aliases.get(normalize_key(key), key))
        hint = (
            "did you mean " + " or ".join(", ".join(map(repr, suggestions)).rsplit(", ", 1)) + "?"
            if suggestions
            else f"see '{self.program} --help' for its options."
        )
        return f"is not a {self.program} option; {hint}"

    def _setting(self, key: str, value: Any, source: Source, origin: str) -> Setting:
        where = origin if source != "ARGS" else "ARGS key " + repr(key)
        lookup = self._lookup(key, where)
        if lookup.option.display_name in self.detaching_options:
            raise self._detaching(where)
        setting = Setting(key, lookup, value, source, origin)
        try:
            setting.argv()
        except TranslationError as exc:
            shown = mask_value(lookup.option.display_name, value)
            raise OptionError(f"Process {self.name!r}: {origin} = {shown}: {mask_text(str(exc))}.") from None
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
        written = [
            (str(k), self._setting(*self.adapt(str(k), v), "ARGS", self._where(str(k))))
            for k, v in (self._dict_args() or {}).items()
        ]
        first: dict[str, str] = {}
        for key, setting in written:
            earlier = first.setdefault(setting.option.dest, key)
            if earlier != key:  # 'max-requests' and 'max_requests': which one was meant?
                raise OptionError(
                    f"Process {self.name!r}: ARGS keys {earlier!r} and {key!r} both set "
                    f"{self.program}'s {setting.option.display_name!r}; keep one."
                )
        return [setting for _, setting in written], self._override_settings()

    @cached_property
    def fixed_settings(self) -> list[Setting]:
        """The options the backend always passes (``fixed_options``), translated."""
        return [
            self._setting(k, v, "backend", f"backend option {k!r}") for k, v in self.fixed_options().items()
        ]

    @cached_property
    def requested(self) -> Mapping[str, Setting]:
        """What the backend needs and the user set (no environment, no defaults), by dest.

        The first stage of resolution: what decides the rest (a config file, gunicorn's
        worker class and so the application it serves) is read from here.
        """
        return {s.option.dest: s for s in self._merge([self.fixed_settings, *self.user_settings])}

    def _resolve(self) -> Resolved:
        raw = self._raw_args()
        # First, before anything imports the program: gunicorn reads WEB_CONCURRENCY with
        # int() while its config module loads, so a malformed value must be reported by us.
        environment = self.environment(self.environ) if raw is None else {}
        # Resolving reads the program's own parser: a missing program is one line, never the
        # ModuleNotFoundError of whichever helper imports it first.
        self.ensure_installed()
        args, command_line = self.user_settings
        fixed = self.fixed_settings
        config = self.find_config_file()
        weak = self._weak_layers(environment) if raw is None and config is None else []
        settings = self._merge([*weak, fixed, args, command_line])
        if raw is None:
            _refuse_used_but_unusable(environment, settings)
            argv = [a for s in settings for a in s.argv()]
        else:
            self._refuse_detaching(raw)
            argv = [*(a for s in fixed for a in s.argv()), *raw, *(a for s in command_line for a in s.argv())]
        argv += self.positional()
        options = {s.option.dest: s for s in settings}
        graceful, graceful_origin = self.graceful(options)
        resolved = Resolved(
            name=self.name,
            program=self.program,
            kind=self.kind,
            argv=tuple(argv),
            command=tuple(self.equivalent_command(argv)),
            options=options,
            config_file=config,
            serving=self.serving(options),
            graceful_seconds=graceful,
            graceful_origin=graceful_origin,
        )
        return replace(resolved, rows=tuple(self.rows(resolved)), notes=tuple(self.explain(resolved)))

    def _weak_layers(self, environment: Mapping[str, EnvValue]) -> list[list[Setting]]:
        """Production defaults, then the environment contract, minus what the program reads
        from its own environment variables."""
        own = self.program_environment()
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
        return [[s for s in layer if s.option.dest not in own] for layer in (defaults, from_environment)]

    def _override_settings(self) -> list[Setting]:
        def takes_value(key: str) -> bool:
            # An unknown key keeps the token after it, so the error names the key
            # ("--wrkers 3": not a gunicorn option) rather than the stray value.
            lookup = resolve_key(self.schema, self.aliases, key)
            return lookup is None or lookup.option.takes_value

        try:
            parsed = parse_overrides(self.overrides, takes_value)
        except TranslationError as exc:
            raise OptionError(f"Process {self.name!r}: command line: {mask_text(str(exc))}.") from None
        settings = [
            self._setting(key, value, "command line", f"command-line option {token!r}")
            for key, value, token in parsed
        ]
        for index, setting in enumerate(settings):
            option = setting.option
            if not option.takes_value or setting.value is not None:
                continue
            if not (option.value_optional or option.boolean or option.bare_value is not None):
                # Else None would quietly mean "the program's default".
                raise OptionError(
                    f"Process {self.name!r}: {setting.origin} needs a value, e.g. '{setting.key}=VALUE'."
                )
            # Bare, it means what the program makes of it bare: the flag alone, True for a
            # boolean word, or the value argparse stands in (gunicorn's --proxy-protocol: auto).
            bare = option.bare_value if option.bare_value is not None else True
            settings[index] = replace(setting, value=bare)
        return settings

    def _merge(self, layers: Sequence[Sequence[Setting]]) -> list[Setting]:
        """Later layers win; see :func:`layers.merge`. A host alone owns only itself (see
        ``host_options`` and ``with_port``): the port still comes from ``PORT``."""
        return merge(layers, self.option_groups, self.host_options, self._with_environment_port)

    def _with_environment_port(self, setting: Setting, previous: Setting | None) -> Setting | None:
        # The environment sets a listening option only from PORT.
        if previous is None or previous.source != "environment":
            return None
        return self.with_port(setting, previous)

    # ----- hooks that shape the resolved value ---------------------------------------------

    def equivalent_command(self, argv: Sequence[str]) -> list[str]:
        """The shell command that runs the same program with ``argv``."""
        return [self.program, *argv]

    def serving(self, options: Mapping[str, Setting]) -> Serving | None:
        """What a web server serves and where; None for processes that serve no HTTP."""
        return None

    def rows(self, resolved: Resolved) -> list[Row]:
        return [
            Row(
                " ".join(mask_argv(s.argv())) or f"(off) {s.option.display_name}",
                s.source,
                mask_text(s.origin),
            )
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
        """Find which single setting the parser rejects, so the message names the user's key.

        The program's own variables (``UVICORN_PORT``) are set aside while looking: if the
        argv passes without them, they are what is wrong on this machine (a deploy check, as
        ``PORT`` is); if not, the culprit is a setting, and they must not be blamed for it.
        """
        variables = sorted(set(self.program_environment().values()))
        with _without_variables(variables):
            if variables and self._parses(list(resolved.argv)):
                reason = mask_text(str(error).rstrip("."))
                return PlatformValueError(
                    f"Process {self.name!r}: {self.program} rejects a value of its own environment "
                    f"({', '.join(variables)}): {reason}; fix or unset it where the process runs."
                )
            return self._culprit(error, resolved)

    def _parses(self, argv: list[str]) -> bool:
        try:
            self.parse(argv)
        except ParserRejected:
            return False
        return True

    def _culprit(self, error: ParserRejected, resolved: Resolved) -> OptionError:
        """The first setting the parser rejects on its own (with the backend's fixed options)."""
        positional = self.positional()
        fixed = [a for s in self.fixed_settings for a in s.argv()]
        for setting in resolved.options.values():
            if setting in self.fixed_settings:
                continue
            try:
                self.parse([*fixed, *setting.argv(), *positional])
            except ParserRejected as exc:
                shown = mask_value(setting.option.display_name, setting.value)
                # A platform variable (FORWARDED_ALLOW_IPS, PORT) is this machine's, not the project's.
                kind = PlatformValueError if setting.source == "environment" else OptionError
                return kind(
                    f"Process {self.name!r}: {mask_text(setting.origin)} = {shown} is rejected by "
                    f"{self.program}: {mask_text(str(exc))}"
                )
        return OptionError(
            f"Process {self.name!r}: {self.program} rejects the options: {mask_text(str(error))}"
        )

    def prep_server_args(self) -> list[str]:
        return list(self.resolve().argv)

    def start_server(self, *args: str) -> None:
        status = self.run(list(args))
        if status:
            raise SystemExit(status)


@contextlib.contextmanager
def _without_variables(names: Sequence[str]) -> Iterator[None]:
    """This process' environment without ``names`` for a moment (the parsers read os.environ).

    Only on the way to an error message, never on a start that succeeds.
    """
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _refuse_used_but_unusable(environment: Mapping[str, EnvValue], settings: Sequence[Setting]) -> None:
    """Raise the problem of an environment value that a resolved option still comes from.

    An option from the environment keeps the variable in its origin, also where it was
    combined with an ARGS host (``with_port``).
    """
    for value in environment.values():
        used = f"environment {value.variable}"
        if value.problem is not None and any(used in setting.origin for setting in settings):
            raise value.problem


__all__ = ["EnvValue", "ParserRejected", "ProgramBackend"]

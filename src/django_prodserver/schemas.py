"""Option schemas read from each program's own parser.

A program's parser is the single source of truth for which options exist, which are on/off
flags, which may repeat and which take a value. We read it (click params, argparse actions;
waitress' adjustment list and uWSGI's getopt table are read in their backends) instead of
keeping a hand-written list that drifts from the installed version.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django_prodserver.records import record

if TYPE_CHECKING:
    import click


def normalize_key(key: str) -> str:
    """``"--Log_Level"`` and ``"log-level"`` name the same option."""
    return key.strip().lstrip("-").replace("_", "-").lower()


@record
class Option:
    """One option of a program, as its parser defines it."""

    dest: str
    #: Long spelling used when we emit it (``--workers``); ``None`` for an off-only flag.
    flag: str | None
    takes_value: bool
    repeatable: bool = False
    #: For on/off options: the spelling that turns it off (``--no-access-log``).
    off_flag: str | None = None
    #: Every other spelling that names this option, normalized (short forms excluded).
    aliases: tuple[str, ...] = ()
    help: str = ""
    choices: tuple[str, ...] = ()
    default: Any = None
    #: The value may be left out (getopt's optional_argument, e.g. uwsgi's ``--need-app``):
    #: True gives the bare flag, False leaves it out, anything else is its value.
    value_optional: bool = False
    #: The value is a word the parser reads as a boolean (click's BOOL type, a tornado bool
    #: option): ``--persistent=False``, unlike an on/off flag that takes no value.
    boolean: bool = False
    #: What the option given alone means to the program (argparse's ``const`` for
    #: ``nargs="?"``: gunicorn's bare ``--proxy-protocol`` is ``auto``); None: it needs a value.
    #: A bare one on the command line is passed on as this value, spelt out, because the
    #: flag alone would take the positional argument after it as its value.
    bare_value: Any = None

    @property
    def is_flag(self) -> bool:
        return not self.takes_value

    @property
    def display_name(self) -> str:
        return normalize_key(self.flag or self.off_flag or self.dest)


@record
class Lookup:
    """What a key in ARGS names: the option, and whether it names its "off" spelling."""

    option: Option
    #: True when the key named the option's "off" spelling (``no-access-log``).
    negated: bool


class OptionSchema:
    """A program's options, indexed by every spelling that names one (uWSGI's fills in as asked)."""

    def __init__(self, program: str, options: list[Option]) -> None:
        self.program = program
        self.options = options
        self._index: dict[str, Lookup] = {}
        for option in self.options:
            if option.flag:
                self._index.setdefault(normalize_key(option.flag), Lookup(option, False))
            if option.off_flag:
                off = normalize_key(option.off_flag)
                self._index.setdefault(off, Lookup(option, True))
                # An off-only flag such as gunicorn's --no-sendfile is also reachable as
                # "sendfile": False, which is how people write it in a dict.
                if option.flag is None and off.startswith("no-"):
                    self._index.setdefault(off[3:], Lookup(option, False))
            for alias in option.aliases:
                self._index.setdefault(alias, Lookup(option, False))

    def lookup(self, key: str) -> Lookup | None:
        return self._index.get(normalize_key(key))

    def names(self) -> list[str]:
        return sorted(self._index)

    def suggest(self, key: str) -> list[str]:
        return difflib.get_close_matches(normalize_key(key), self.names(), n=3, cutoff=0.6)

    def __iter__(self) -> Iterator[Option]:
        return iter(self.options)


def _long(opts: Iterable[str]) -> list[str]:
    return [opt for opt in opts if opt.startswith("--")]


def from_click(program: str, command: click.Command, *, skip: Iterable[str] = ()) -> OptionSchema:
    import click

    skipped = {"help", "version", *skip}
    options = []
    for param in command.params:
        if not isinstance(param, click.Option) or param.name in skipped or param.hidden:
            continue
        longs = _long(param.opts) or list(param.opts)
        off = _long(param.secondary_opts)
        is_flag = bool(param.is_flag) and not param.count
        choices = tuple(map(str, param.type.choices)) if isinstance(param.type, click.Choice) else ()
        options.append(
            Option(
                dest=str(param.name),
                flag=longs[0] if longs else None,
                takes_value=not is_flag and not param.count,
                repeatable=bool(param.multiple or param.count),
                off_flag=off[0] if off else None,
                aliases=tuple(normalize_key(o) for o in longs[1:] + off[1:]),
                help=param.help or "",
                choices=choices,
                default=None if callable(param.default) else param.default,
                boolean=not is_flag and isinstance(param.type, click.types.BoolParamType),
            )
        )
    return OptionSchema(program, options)


def click_env_variables(schema: OptionSchema, prefix: str, environ: Mapping[str, str]) -> dict[str, str]:
    """Options set through the program's own ``PREFIX_OPTION`` variables of ``environ``: dest → variable."""
    found = {o.dest: f"{prefix}_{o.dest.upper()}" for o in schema}
    return {dest: variable for dest, variable in found.items() if variable in environ}


_FLAG_ACTIONS = (
    argparse._StoreTrueAction,
    argparse._StoreFalseAction,
    argparse._StoreConstAction,
    argparse._CountAction,
)


def from_argparse(program: str, parser: argparse.ArgumentParser, *, skip: Iterable[str] = ()) -> OptionSchema:
    skipped = {"help", "version", *skip}
    options = []
    for action in parser._actions:
        if not action.option_strings or action.dest in skipped:
            continue
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        longs = _long(action.option_strings)
        if not longs:
            continue
        help_text = action.help if isinstance(action.help, str) else ""
        if help_text == argparse.SUPPRESS:
            continue
        choices = tuple(map(str, action.choices)) if action.choices else ()
        if isinstance(action, argparse.BooleanOptionalAction):
            on = [o for o in longs if not o.startswith("--no-")]
            off = [o for o in longs if o.startswith("--no-")]
            options.append(
                Option(action.dest, on[0], False, off_flag=off[0] if off else None, help=help_text)
            )
        elif isinstance(action, _FLAG_ACTIONS):
            # A flag that stores False under a "--no-x" spelling is the off switch of x.
            turns_off = action.const is False and longs[0].startswith("--no-")
            options.append(
                Option(
                    action.dest,
                    None if turns_off else longs[0],
                    False,
                    repeatable=isinstance(action, argparse._CountAction),
                    off_flag=longs[0] if turns_off else None,
                    aliases=tuple(normalize_key(o) for o in longs[1:]),
                    help=help_text,
                )
            )
        else:
            options.append(
                Option(
                    action.dest,
                    longs[0],
                    True,
                    repeatable=isinstance(action, (argparse._AppendAction, argparse._ExtendAction))
                    or action.nargs in ("*", "+"),
                    aliases=tuple(normalize_key(o) for o in longs[1:]),
                    help=help_text,
                    choices=choices,
                    default=action.default,
                    bare_value=action.const if action.nargs == "?" else None,
                )
            )
    return OptionSchema(program, options)

"""ARGS (and command-line overrides) → the program's argv, driven by its :class:`OptionSchema`.

Every value is resolved against the program's own option: on/off flags become the bare flag
or its negative spelling (``"no-access-log": "True"`` → ``--no-access-log``), repeatable
options repeat for a list, valued options become ``--key=value``. Nothing is guessed from the
key's spelling alone.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from django_prodserver.records import record
from django_prodserver.schemas import Lookup, Option, OptionSchema, normalize_key

TRUE_STRINGS = frozenset({"true", "1", "yes", "on", "y", "t"})
FALSE_STRINGS = frozenset({"false", "0", "no", "off", "n", "f"})

#: Where a value came from: prodserver's production default, the platform's environment, what
#: the backend needs to serve the app right, the user's ARGS, the command line.
Source = Literal["default", "environment", "backend", "ARGS", "command line"]
#: Sources the user (or the backend) set on purpose; they own a whole option group.
STRONG_SOURCES: frozenset[Source] = frozenset({"backend", "ARGS", "command line"})


class TranslationError(ValueError):
    """Raised with a message that completes "<where the value came from> …"."""


def as_bool(value: Any) -> bool | None:
    """``True``/``"true"``/``"1"``/``None`` (bare flag) → True; ``False``/``"False"``/``"0"`` → False."""
    if value is None or value is True:
        return True
    if value is False:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_STRINGS:
            return True
        if text in FALSE_STRINGS:
            return False
    return None


def as_list(value: Any) -> list[Any]:
    """A list or tuple as a list; any other value as a list of that one value."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def is_unset(value: Any) -> bool:
    """``None``/``"None"`` on a valued option means "the program's default" (as in the ARGS tables)."""
    return value is None or (isinstance(value, str) and value.strip() in ("None", "none", "null"))


def option_argv(lookup: Lookup, value: Any) -> list[str]:
    """The argv fragment for one option and one user value."""
    option = lookup.option
    if option.is_flag:
        wanted = as_bool(value)
        if wanted is None:
            raise TranslationError(
                f"'{_spelling(lookup)}' is an on/off flag; use True or False, not {value!r}"
            )
        if lookup.negated:
            wanted = not wanted
        spelling = option.flag if wanted else option.off_flag
        return [spelling] if spelling else []
    if option.value_optional and isinstance(value, bool):
        return [option.flag] if value and option.flag else []
    if is_unset(value):
        return []
    if isinstance(value, (list, tuple)):
        if not option.repeatable:
            raise TranslationError(f"'{option.flag}' takes one value, not a list")
        return [f"{option.flag}={item}" for item in value]
    return [f"{option.flag}={value}"]


def _spelling(lookup: Lookup) -> str:
    option = lookup.option
    return (option.off_flag if lookup.negated else option.flag) or option.off_flag or ""


@record
class Setting:
    """One resolved option: what the user wrote, what it means, and where it came from."""

    key: str
    lookup: Lookup
    value: Any
    source: Source
    #: Human pointer to where the value was written, e.g. ``PRODUCTION_PROCESSES['web']['ARGS']['workers']``.
    origin: str

    @property
    def option(self) -> Option:
        return self.lookup.option

    def argv(self) -> list[str]:
        return option_argv(self.lookup, self.value)


def raw_argv(args: str | Sequence[str]) -> list[str]:
    """ARGS given as a string or list are raw argv, passed through untouched."""
    return shlex.split(args) if isinstance(args, str) else [str(a) for a in args]


def parse_overrides(tokens: Iterable[str], takes_value: Callable[[str], bool]) -> list[tuple[str, Any, str]]:
    """Command-line overrides (``--workers=8``, ``--preload``, ``--log-level debug``) → (key, value, token).

    ``takes_value(key)`` tells whether the next token is the option's value, so a bare flag
    never swallows what follows it.
    """
    result: list[tuple[str, Any, str]] = []
    pending: list[str] = list(tokens)
    while pending:
        token = pending.pop(0)
        if not token.startswith("-") or token in ("-", "--"):
            raise TranslationError(f"expected an option such as --workers=8, got {token!r}")
        if "=" in token:
            key, value = token.split("=", 1)
            result.append((key, value, token))
        elif pending and not pending[0].startswith("-") and takes_value(token):
            value = pending.pop(0)
            result.append((token, value, f"{token} {value}"))
        else:
            result.append((token, None, token))
    return result


def resolve_key(schema: OptionSchema, aliases: Mapping[str, str], key: str) -> Lookup | None:
    """The option ``key`` names; a documented alias applies only where the program has no such option.

    Older releases may still have the option the alias stands in for (granian 1.x has
    ``--threads``); there the program's own meaning wins.
    """
    normalized = normalize_key(key)
    own = schema.lookup(normalized)
    if own is not None or normalized not in aliases:
        return own
    return schema.lookup(aliases[normalized])

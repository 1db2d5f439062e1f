"""The keys of prodserver's settings dicts, and the one wording for a misspelt key.

A settings dict's keys are its config record's fields, upper-cased, so the keys a setting
accepts are declared once, by the record (records.py). ``PRODUCTION_PROCESSES`` entries,
``PRODSERVER_HEALTH`` and ``PRODSERVER_SUPERVISOR`` all reject a misspelt key with the same
"did you mean" from here.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from django_prodserver.errors import ConfigurationError
from django_prodserver.records import field_names


def setting_keys(config: type) -> dict[str, str]:
    """A settings dict's keys are its config record's fields, upper-cased."""
    return {name.upper(): name for name in field_names(config)}


def meant_key(key: Any, known: Sequence[str]) -> str | None:
    """The known key that ``key`` misspells (in any case), if one is close enough."""
    close = difflib.get_close_matches(str(key).upper(), known, n=1)
    return close[0] if close else None


def known_keys_hint(key: Any, known: Sequence[str]) -> str:
    """``did you mean 'DRAIN'?`` for a misspelt key (in any case), or else every key there is."""
    meant = meant_key(key, known)
    return f"did you mean {meant!r}?" if meant else f"use {', '.join(map(repr, known))}."


def dict_setting(
    setting: str, keys: Mapping[str, str], example: str, error: type[ConfigurationError]
) -> tuple[Mapping[Any, Any], dict[str, Any]] | None:
    """Read an optional dict setting whose keys map onto a config record's fields.

    Shared by ``PRODSERVER_HEALTH`` and ``PRODSERVER_SUPERVISOR`` so both reject a non-dict
    and a misspelt key with the same wording. Returns None when the setting is unset, else
    the raw dict (for per-key value checks) and its items renamed to field names. A key set
    to None means its default, as an unset key does.
    """
    value = getattr(settings, setting, None)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise error(f"The {setting} setting must be a dict, e.g. {example}, not {type(value).__name__}.")
    value = {key: item for key, item in value.items() if item is not None}
    found: dict[str, Any] = {}
    for key, item in value.items():
        if key not in keys:
            raise error(f"{setting} has unknown key {key!r}; {known_keys_hint(key, list(keys))}")
        found[keys[key]] = item
    return value, found

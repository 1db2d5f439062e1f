"""Deterministic YAML and TOML text for the exporters, without a YAML library at run time.

The exported files are committed and reviewed as diffs, so the same facts must give the same
bytes: keys keep the order the exporter wrote them in, strings that YAML could read as
another type (``on``, ``1.0``, ``*``) are double-quoted, and there are no timestamps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/$][A-Za-z0-9_./:$-]*")
_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


class Flow(tuple[Any, ...]):
    """A list written inline, ``["python", "manage.py", …]``: how commands read best."""


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED and not text.endswith(":"):
        return text
    return json.dumps(text)


def yaml_lines(value: Any, indent: int = 0) -> list[str]:
    """Block-style YAML for nested dicts and lists of scalars, ``Flow`` lists inline."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            lines += _entry(f"{pad}{scalar(key)}:", item, indent)
    else:
        for item in value:
            lines += _entry(f"{pad}-", item, indent, listed=True)
    return lines


def _entry(head: str, item: Any, indent: int, *, listed: bool = False) -> list[str]:
    if isinstance(item, Flow):
        return [f"{head} [{', '.join(json.dumps(str(v)) for v in item)}]"]
    if isinstance(item, (Mapping, list)) and not item:
        return [f"{head} {'{}' if isinstance(item, Mapping) else '[]'}"]
    if isinstance(item, Mapping) and listed:
        inner = yaml_lines(item, indent + 2)
        return [f"{head} {inner[0].lstrip()}", *inner[1:]]
    if isinstance(item, Mapping):
        return [head, *yaml_lines(item, indent + 2)]
    if isinstance(item, (list, tuple)):
        return [head, *yaml_lines(item, indent + 2)]
    return [f"{head} {scalar(item)}"]


def comments(lines: Sequence[str]) -> list[str]:
    return [f"# {line}".rstrip() for line in lines]


def yaml_document(header: Sequence[str], value: Any) -> str:
    return "\n".join([*comments(header), *yaml_lines(value)]) + "\n"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))

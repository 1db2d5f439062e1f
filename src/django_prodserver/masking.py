"""Secrets stay out of what prodserver prints: ``--list``, ``--dry-run``, notes and errors.

ARGS carry secrets (Flower's ``basic_auth`` and ``cookie_secret``, a broker or database URL
with a password), and what ``--dry-run`` prints ends up in CI logs and support tickets. Two
rules, both about what is *printed*; the argv handed to the program is never changed:

- an option whose name has a word that says "secret" (:data:`SECRET_WORDS`: ``password``,
  ``secret``, ``token``, ``auth``, ``key``, …) shows ``***`` for its value. Words, not
  substrings: ``keyfile``, ``ssl-keyfile`` and ``certfile`` name files, not secrets, and stay
  visible; ``ssl-keyfile-password`` is masked. ``auth`` also masks Flower's ``auth`` (a
  regular expression of e-mail addresses) and ``auth_provider`` (a class path): over-masking
  a harmless value is the cheap mistake.
- the password of a URL (``scheme://user:password@host``) shows ``***``, wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
#: Words of an option name that mark its value as a secret.
SECRET_WORDS = frozenset(
    {"password", "passwd", "passphrase", "secret", "token", "auth", "key", "apikey", "credentials"}
)

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*):(?P<password>[^@\s/'\"]+)@")
#: ``--name=value`` or ``NAME=value`` inside a message, up to a quote, a space or a comma.
_ASSIGNMENT = re.compile(r"(?P<name>-{0,2}[A-Za-z][\w.-]*)=(?P<value>[^\s'\",]+)")


def is_secret(name: str) -> bool:
    """Whether an option (or environment variable) of this name carries a secret."""
    words = re.split(r"[-_.\s]+", name.strip().lstrip("-").lower())
    return any(word in SECRET_WORDS for word in words)


def mask_urls(text: str) -> str:
    """``redis://:hunter2@cache:6379/0`` → ``redis://:***@cache:6379/0``."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", text)


def mask_text(text: str) -> str:
    """A message or an origin: secret assignments and URL passwords masked."""

    def assignment(match: re.Match[str]) -> str:
        return f"{match['name']}={MASK}" if is_secret(match["name"]) else match[0]

    return mask_urls(_ASSIGNMENT.sub(assignment, text))


def mask_value(name: str, value: Any) -> str:
    """``repr(value)`` for a message about option ``name``, masked when it is a secret."""
    return repr(MASK) if is_secret(name) else mask_urls(repr(value))


def mask_argv(argv: Iterable[str]) -> list[str]:
    """An argv (or a command) as it may be printed: ``--basic-auth=***``, ``--password ***``."""
    shown: list[str] = []
    hide_next = False
    for token in argv:
        if hide_next and not token.startswith("-"):
            shown.append(MASK)
            hide_next = False
            continue
        hide_next = False
        name, equals, _ = token.partition("=")
        if token.startswith("-") and is_secret(name):
            if equals:
                shown.append(f"{name}={MASK}")
                continue
            hide_next = True  # "--password VALUE": the value is the next token
        elif equals and name.isidentifier() and is_secret(name):
            shown.append(f"{name}={MASK}")  # an environment prefix, NAME=value
            continue
        shown.append(mask_urls(token))
    return shown

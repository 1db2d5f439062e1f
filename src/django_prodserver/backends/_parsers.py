"""Running a program's own parser without letting it print or exit.

Validation hands the resolved argv to the program's parser (argparse for gunicorn,
hypercorn and daphne; click for uvicorn, granian and Celery). Each reports a refusal its own
way — argparse prints usage and exits, click raises — and both become one
:class:`ParserRejected` carrying the program's own words.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator


class ParserRejected(Exception):
    """The program's own parser refused an argv; ``str()`` is the program's message."""


@contextlib.contextmanager
def argparse_rejection(program: str) -> Iterator[None]:
    """An argparse parser's exit becomes :class:`ParserRejected` with its last line, unprefixed."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            yield
    except SystemExit:
        lines = stderr.getvalue().strip().splitlines()
        message = lines[-1].removeprefix(f"{program}: ").removeprefix("error: ") if lines else ""
        raise ParserRejected(message or "invalid arguments") from None


@contextlib.contextmanager
def click_rejection() -> Iterator[None]:
    """A click parser's error becomes :class:`ParserRejected`; ``--help``/``--version`` pass."""
    import click

    try:
        yield
    except click.exceptions.Exit:
        pass
    except click.ClickException as exc:
        raise ParserRejected(exc.format_message()) from None

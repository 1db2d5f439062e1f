"""Every child's output, line by line, behind its name: ``web    | GET / 200``.

Children write bytes in whatever chunks the pipe delivers. We keep the unfinished tail of
each child's output until its newline arrives, so lines from two children never mix
mid-line; decode each whole line as UTF-8 with replacement, so a byte that is not UTF-8 (or
a multi-byte character split across two reads) never crashes the printer; and write all the
lines of one read in a single ``write`` + ``flush``, which is what keeps a chatty child cheap.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import BinaryIO

SYSTEM = "system"

#: A line longer than this is printed in pieces rather than held in memory without bound.
MAX_LINE = 64 * 1024

#: ANSI colours per process, in order: cyan, yellow, green, magenta, red, blue, then bright.
COLOURS = ("36", "33", "32", "35", "31", "34", "96", "93", "92", "95", "91", "94")


def use_colour(stream: BinaryIO, *, no_color: bool = False, force_color: bool = False) -> bool:
    """Colour on a terminal only; ``--no-color`` and the NO_COLOR convention turn it off."""
    if force_color:
        return True
    if no_color or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Printer:
    def __init__(self, stream: BinaryIO, names: Iterable[str], *, colour: bool = False) -> None:
        self.stream = stream
        names = list(names)
        self.width = max(len(name) for name in [SYSTEM, *names])
        self._prefix: dict[str, bytes] = {}
        for index, name in enumerate([*names, SYSTEM]):
            text = f"{name.ljust(self.width)} | "
            if colour:
                code = "1" if name == SYSTEM else COLOURS[index % len(COLOURS)]
                text = f"\033[{code}m{text}\033[0m"
            self._prefix[name] = text.encode()
        self._partial: dict[str, bytes] = {}
        self.broken = False

    def _lines(self, name: str, lines: Iterable[bytes]) -> bytes:
        prefix = self._prefix[name]
        return b"".join(prefix + line.decode("utf-8", "replace").encode("utf-8") + b"\n" for line in lines)

    def _emit(self, data: bytes) -> None:
        if data and not self.broken:
            try:
                self.stream.write(data)
                self.stream.flush()
            except OSError:
                # The terminal closed or the reader of the pipe went away: the children
                # keep running and being supervised; their output has nowhere to go.
                self.broken = True

    def feed(self, name: str, data: bytes) -> None:
        """Print the complete lines in ``data``; keep an unfinished last line for later."""
        data = self._partial.pop(name, b"") + data
        *lines, rest = data.replace(b"\r\n", b"\n").split(b"\n")
        while len(rest) > MAX_LINE:
            lines.append(rest[:MAX_LINE])
            rest = rest[MAX_LINE:]
        if rest:
            self._partial[name] = rest
        self._emit(self._lines(name, lines))

    def finish(self, name: str) -> None:
        """The child's output ended: print what it left without a newline."""
        rest = self._partial.pop(name, b"")
        if rest:
            self._emit(self._lines(name, [rest]))

    def system(self, text: str) -> None:
        """The supervisor's own events, in the same stream as the children's output."""
        self._emit(self._lines(SYSTEM, [text.encode("utf-8")]))

"""Every child's output, line by line, behind its name: ``web    | GET / 200``.

Children write bytes in whatever chunks the pipe delivers. We keep the unfinished tail of
each child's output until its line ends (``\\n``, ``\\r\\n``, or a lone ``\\r`` as progress bars
write it, which on a terminal would otherwise overwrite the name in front), so lines from two
children never mix mid-line; a line longer than :data:`MAX_LINE` is printed in pieces cut
between characters. Each line is decoded as UTF-8 with replacement, so bytes that are not
UTF-8 never stop the output.

Lines wait in one queue, in the order they arrived, and go out as fast as the stream takes
them, never blocking (see :mod:`.sink`). When the stream falls behind, each child may have
:data:`BUFFER_LIMIT` bytes waiting; past that its new lines are dropped and counted, said once
when it starts and counted when the child's output ends, so the supervisor keeps reading
every pipe (children never block on their own logging) and keeps acting on signals.
"""

from __future__ import annotations

import collections
import os
import re
import time
from collections.abc import Iterable
from typing import BinaryIO

from django_prodserver.supervisor.sink import GONE, Sink

SYSTEM = "system"

#: A line longer than this is printed in pieces rather than held in memory without bound.
MAX_LINE = 64 * 1024
#: Bytes of one child's lines that may wait for a slow stream before its lines are dropped.
BUFFER_LIMIT = 1024 * 1024
#: At exit, how long we keep trying to write what is left while the stream takes nothing.
FINAL_STALL = 2.0

#: ANSI colours per process, in order: cyan, yellow, green, magenta, red, blue, then bright.
COLOURS = ("36", "33", "32", "35", "31", "34", "96", "93", "92", "95", "91", "94")

_LINE_END = re.compile(rb"\r\n|\r|\n")


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


def _cut(data: bytes) -> int:
    """Where to cut a too-long line: at MAX_LINE, moved back off a UTF-8 continuation byte."""
    cut = MAX_LINE
    while cut > MAX_LINE - 3 and data[cut] & 0xC0 == 0x80:
        cut -= 1
    return cut


class Printer:
    def __init__(
        self, stream: BinaryIO, names: Iterable[str], *, colour: bool = False, limit: int = BUFFER_LIMIT
    ) -> None:
        self.stream = stream
        self.sink = Sink(stream)
        names = list(names)
        self.width = max(len(name) for name in [SYSTEM, *names])
        self._prefix: dict[str, bytes] = {}
        for index, name in enumerate([*names, SYSTEM]):
            text = f"{name.ljust(self.width)} | "
            if colour:
                code = "1" if name == SYSTEM else COLOURS[index % len(COLOURS)]
                text = f"\033[{code}m{text}\033[0m"
            self._prefix[name] = text.encode()
        self._limit = limit
        self._partial: dict[str, bytes] = {}
        self._queue: collections.deque[tuple[str, bytes]] = collections.deque()
        #: How much of the first queued chunk is already written.
        self._offset = 0
        self._queued: dict[str, int] = collections.Counter()
        self._dropped: dict[str, int] = collections.Counter()
        self._warned: set[str] = set()
        #: The stream is gone (EPIPE, EBADF): the children keep running, their output is lost.
        self.broken = False

    # ----- taking lines in ---------------------------------------------------------------------

    def feed(self, name: str, data: bytes) -> None:
        """Queue the complete lines in ``data``; keep an unfinished last line for later."""
        data = self._partial.pop(name, b"") + data
        # A trailing \r may be the first half of \r\n: wait for the next byte.
        held = b"\r" if data.endswith(b"\r") else b""
        *lines, rest = _LINE_END.split(data[: len(data) - len(held)])
        while len(rest) > MAX_LINE:
            cut = _cut(rest)
            lines.append(rest[:cut])
            rest = rest[cut:]
        if rest or held:
            self._partial[name] = rest + held
        self._add(name, lines)

    def finish(self, name: str) -> None:
        """The child's output ended: queue what it left without a newline, and what was dropped."""
        rest = self._partial.pop(name, b"").rstrip(b"\r")
        if rest:
            self._add(name, [rest])
        dropped = self._dropped.pop(name, 0)
        if dropped:
            self.system(f"{name}: {dropped} lines of its output were dropped because the output was not read")

    def system(self, text: str) -> None:
        """The supervisor's own events, in the same stream as the children's output."""
        self._add(SYSTEM, [text.encode("utf-8")])

    def _add(self, name: str, lines: list[bytes]) -> None:
        if not lines or self.broken:
            return
        prefix = self._prefix[name]
        data = b"".join(prefix + line.decode("utf-8", "replace").encode("utf-8") + b"\n" for line in lines)
        if self._queued[name] + len(data) > self._limit and self._queue:
            self._drop(name, len(lines))
        else:
            self._queue.append((name, data))
            self._queued[name] += len(data)
        self.flush()

    def _drop(self, name: str, count: int) -> None:
        self._dropped[name] += count
        if name not in self._warned and name != SYSTEM:
            self._warned.add(name)
            notice = (
                f"the output is not being read fast enough: dropping {name}'s lines while it is "
                "behind (counted when its output ends)"
            )
            prefix = self._prefix[SYSTEM]
            self._queue.append((SYSTEM, prefix + notice.encode() + b"\n"))

    # ----- writing them out -------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        return bool(self._queue) and not self.broken

    def flush(self) -> None:
        """Write what the stream takes now, without blocking; the rest waits in the queue."""
        while self.pending:
            name, data = self._queue[0]
            try:
                written = self.sink.write(memoryview(data)[self._offset :])
            except OSError as exc:
                if exc.errno in GONE:
                    self.broken = True
                    self._queue.clear()
                    return
                written = len(data) - self._offset  # ENOSPC, EIO…: these lines are lost, not later ones
            if written == 0:
                return
            self._queued[name] -= written
            self._offset += written
            if self._offset >= len(data):
                self._queue.popleft()
                self._offset = 0

    def close(self, stall: float = FINAL_STALL) -> None:
        """At exit: write what is left, giving up once the stream has taken nothing for ``stall`` s."""
        last_progress = time.monotonic()
        while self.pending:
            before = (len(self._queue), self._offset)
            self.flush()
            if (len(self._queue), self._offset) != before:
                last_progress = time.monotonic()
            remaining = last_progress + stall - time.monotonic()
            if remaining <= 0:
                return
            if self.pending:
                self.sink.ready(min(remaining, 0.5))

"""Where the supervisor's output goes, written without ever blocking the loop.

A blocking ``write`` to a stdout nobody reads (Docker's blocking log mode behind a throttled
driver, ``| less`` paused) would freeze the one loop that also handles signals, child exits
and the shutdown deadline. So we only write when ``poll`` says the stream can take data, at
most ``PIPE_BUF`` bytes at a time: a pipe, a socket or a terminal that reports writable
accepts that much without blocking. Setting ``O_NONBLOCK`` instead would change the file
description we share with the shell or whoever else writes to it.
"""

from __future__ import annotations

import errno
import os
import select
import stat
from typing import BinaryIO

#: What a writable pipe accepts in one ``write`` without blocking (POSIX guarantees 512).
CHUNK = getattr(select, "PIPE_BUF", 512)

#: The stream is gone for good: nothing we write can ever arrive.
GONE = (errno.EPIPE, errno.EBADF, errno.ECONNRESET)


class Sink:
    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.fd: int | None = None
        #: Regular files and block devices never make a writer wait: no need to poll them.
        self.always_ready = True
        try:
            fd = stream.fileno()
            stream.flush()
            mode = os.fstat(fd).st_mode
        except (AttributeError, OSError, ValueError):
            return  # an in-memory stream (tests): written directly
        self.fd = fd
        self.always_ready = stat.S_ISREG(mode) or stat.S_ISBLK(mode)

    def ready(self, timeout: float = 0) -> bool:
        """Whether a write would not block now, waiting up to ``timeout`` seconds."""
        if self.fd is None or self.always_ready:
            return True
        poller = select.poll()
        poller.register(self.fd, select.POLLOUT)
        events = poller.poll(max(0, int(timeout * 1000)))
        return any(mask & (select.POLLOUT | select.POLLERR | select.POLLHUP) for _, mask in events)

    def write(self, data: bytes | memoryview) -> int:
        """Write what the stream takes now without blocking; bytes written (0: try later).

        Raises OSError for a failed write; the caller tells a lost stream (:data:`GONE`)
        from a passing failure such as ENOSPC.
        """
        if self.fd is None:
            self.stream.write(data)
            self.stream.flush()
            return len(data)
        if not self.ready():
            return 0
        try:
            return os.write(self.fd, data[: len(data) if self.always_ready else CHUNK])
        except (BlockingIOError, InterruptedError):
            return 0

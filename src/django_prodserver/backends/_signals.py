"""Turn a graceful stop into exit status 0 for programs that re-raise the stop signal.

Uvicorn restores the previous SIGTERM/SIGINT handler after its graceful shutdown and then
re-raises the signal; with the default handler the process dies with -15 and systemd,
Docker and Kubernetes record a failure. Installing a recording handler first lets the
shutdown finish and the process exit 0, exactly as gunicorn does.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def absorb_stop_signals() -> Iterator[list[int]]:
    received: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, record) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

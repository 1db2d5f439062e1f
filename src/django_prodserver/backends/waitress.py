"""Waitress: options read from the adjustment list its own runner parses."""

from __future__ import annotations

import getopt
import signal
from collections.abc import Mapping
from types import FrameType
from typing import Any

from django_prodserver.args import Setting
from django_prodserver.backends.program import ParserRejected
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.schemas import OptionSchema, from_waitress


def _stop(signum: int, frame: FrameType | None) -> None:
    # Waitress stops its loop on KeyboardInterrupt/SystemExit and then lets the request
    # threads finish; without this SIGTERM kills it mid-request.
    raise SystemExit(0)


class WaitressServer(WebServerBackend):
    program = "waitress-serve"
    module = "waitress"
    extra = "waitress"
    # Waitress is one process with a thread pool: its concurrency knob is threads.
    workers_option = "threads"
    forwarded_option = "trusted-proxy"
    option_groups = (frozenset({"host", "port", "listen", "unix_socket"}),)

    def load_schema(self) -> OptionSchema:
        return from_waitress("waitress-serve")

    def defaults(self) -> Mapping[str, Any]:
        # Waitress' own default of 4 threads suits it; it is not sized by CPU.
        return {}

    def listen_addresses(self, settings: Mapping[str, Setting]) -> list[tuple[str, int]]:
        listen = settings.get("listen")
        if listen is None:
            return super().listen_addresses(settings)
        values = listen.value if isinstance(listen.value, (list, tuple)) else str(listen.value).split()
        found = []
        for item in values:
            host, _, port = str(item).rpartition(":")
            found.append((host or "0.0.0.0", int(port)))
        return found

    def parse(self, argv: list[str]) -> None:
        from waitress.adjustments import Adjustments

        try:
            kw, args = Adjustments.parse_args(argv)
        except getopt.GetoptError as exc:
            raise ParserRejected(str(exc)) from None
        kw.pop("help", None)
        kw.pop("call", None)
        try:
            Adjustments(**kw)
        except ValueError as exc:
            raise ParserRejected(str(exc)) from None

    def run(self, argv: list[str]) -> int:
        from waitress.runner import run

        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            return run(argv=["waitress-serve", *argv]) or 0
        finally:
            signal.signal(signal.SIGTERM, previous)

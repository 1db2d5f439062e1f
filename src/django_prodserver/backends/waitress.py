"""Waitress: options read from the adjustment list its own runner parses."""

from __future__ import annotations

import getopt
import re
import signal
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any, ClassVar

from django_prodserver import platform
from django_prodserver.args import Setting, as_list, is_unset
from django_prodserver.backends._addresses import tcp_address
from django_prodserver.backends._parsers import ParserRejected
from django_prodserver.backends.program import EnvValue
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.errors import PlatformValueError
from django_prodserver.schemas import Option, OptionSchema

#: What FORWARDED_ALLOW_IPS makes waitress believe, as gunicorn and uvicorn do.
TRUSTED_HEADERS = ("x-forwarded-for", "x-forwarded-proto")
#: The headers waitress removes from requests of untrusted peers (waitress.proxy_headers).
_PROXY_HEADERS = frozenset(
    {
        "X_FORWARDED_FOR",
        "X_FORWARDED_HOST",
        "X_FORWARDED_PROTO",
        "X_FORWARDED_PORT",
        "X_FORWARDED_BY",
        "FORWARDED",
    }
)


def _stop(signum: int, frame: FrameType | None) -> None:
    # Waitress stops its loop on KeyboardInterrupt/SystemExit and then lets the request
    # threads finish; without this SIGTERM kills it mid-request.
    raise SystemExit(0)


def graceful_dispatcher(seconds: float) -> Any:
    """Waitress' thread pool, stopping as every other backend does: work in flight gets ``seconds``.

    Waitress' own shutdown gives running requests 5 s (a hard-coded default of
    ``ThreadedTaskDispatcher.shutdown``) and cancels the accepted ones still queued. This one
    first lets the queue empty and the running requests finish, within the budget, then
    stops the threads.
    """
    from waitress.task import ThreadedTaskDispatcher

    class GracefulDispatcher(ThreadedTaskDispatcher):  # type: ignore[misc]
        def shutdown(self, cancel_pending: bool = True, timeout: float = seconds) -> bool:
            deadline = time.monotonic() + timeout
            with self.lock:
                # active_count: threads running a task (idle ones wait on queue_cv).
                while (self.queue or self.active_count > 0) and time.monotonic() < deadline:
                    self.thread_exit_cv.wait(0.1)
            left = max(0.0, deadline - time.monotonic())
            return bool(super().shutdown(cancel_pending, left))

    return GracefulDispatcher()


class WaitressServer(WebServerBackend):
    program = "waitress-serve"
    module = "waitress"
    extra = "waitress"
    # Waitress is one process with a thread pool: its concurrency knob is threads.
    workers_option = "threads"
    forwarded_option = "trusted-proxy"
    option_groups = (
        frozenset({"host", "port", "listen", "unix_socket"}),
        # ARGS that set any of these say how far to trust the proxy; FORWARDED_ALLOW_IPS
        # then adds nothing.
        frozenset({"trusted_proxy", "trusted_proxy_headers", "trusted_proxy_count"}),
    )
    #: Seconds SIGTERM waits for requests in flight (waitress' own: 5 s): within Kubernetes' 30 s.
    graceful_timeout: ClassVar[float] = platform.GRACEFUL_SECONDS

    def load_schema(self) -> OptionSchema:
        return _waitress_schema(self.program)

    def defaults(self) -> Mapping[str, Any]:
        # Waitress' own default of 4 threads suits it; it is not sized by CPU.
        return {}

    def environment(self, environ: Mapping[str, str]) -> Mapping[str, EnvValue]:
        found = dict(super().environment(environ))
        trusted = found.get("trusted-proxy")
        if trusted is None:
            return found
        addresses = [a.strip() for a in str(trusted.value).split(",") if a.strip()]
        if len(addresses) != 1:
            raise PlatformValueError(
                f"Process {self.name!r}: FORWARDED_ALLOW_IPS={trusted.value!r} lists several proxies, "
                "but waitress trusts exactly one address (or '*'); set FORWARDED_ALLOW_IPS to your "
                "proxy's address, or set ARGS 'trusted-proxy'."
            )
        found["trusted-proxy"] = EnvValue(addresses[0], trusted.variable)
        # Waitress acts on no header of a trusted proxy unless told which; gunicorn and
        # uvicorn take the client address and scheme from these two.
        found["trusted-proxy-headers"] = EnvValue(" ".join(TRUSTED_HEADERS), trusted.variable)
        return found

    def drops_proxy_header(self, meta_name: str) -> bool:
        # Waitress removes X-Forwarded-*/Forwarded from every request unless it comes from
        # the trusted proxy and the header is one it was told to trust.
        header = meta_name.removeprefix("HTTP_")
        if header not in _PROXY_HEADERS:
            return False
        clear = self.option("clear-untrusted-proxy-headers")
        if clear is not None and clear.argv() == ["--no-clear-untrusted-proxy-headers"]:
            return False
        proxy = self.option("trusted-proxy")
        if proxy is None or is_unset(proxy.value):
            return True
        headers = self.option("trusted-proxy-headers")
        # Without trusted-proxy-headers waitress still trusts X-Forwarded-Proto (and warns).
        trusted = str(headers.value).replace(",", " ").split() if headers else ["x-forwarded-proto"]
        return header.replace("_", "-").lower() not in {h.lower() for h in trusted}

    def listen_addresses(self, settings: Mapping[str, Setting]) -> list[tuple[str, int]]:
        listen = settings.get("listen")
        if listen is None:
            # Waitress' own defaults, not the 127.0.0.1:8000 most servers use.
            host_setting, port_setting = settings.get("host"), settings.get("port")
            return [
                (
                    str(host_setting.value) if host_setting else "0.0.0.0",
                    int(port_setting.value) if port_setting else 8080,
                )
            ]
        # One value may list several addresses, separated by spaces, as waitress splits them.
        binds = [bind for value in as_list(listen.value) for bind in str(value).split()]
        found = (tcp_address(bind, default_host="0.0.0.0", default_port=None) for bind in binds)
        return [address for address in found if address]

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
        from waitress import serve
        from waitress.adjustments import Adjustments
        from waitress.runner import run

        def serve_gracefully(app: Any, **kw: Any) -> None:
            dispatcher = graceful_dispatcher(self.graceful_timeout)
            # create_server() starts the pool itself only when it makes the dispatcher.
            dispatcher.set_thread_count(Adjustments(**kw).threads)
            serve(app, _dispatcher=dispatcher, **kw)

        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            return run(argv=["waitress-serve", *argv], _serve=serve_gracefully) or 0
        finally:
            signal.signal(signal.SIGTERM, previous)


def _waitress_help() -> dict[str, str]:
    """First paragraph under each ``--option`` of waitress-serve's usage text, by option name."""
    from waitress.runner import HELP

    found: dict[str, str] = {}
    for block in re.split(r"\n(?=    --)", HELP):
        match = re.match(r"    --(?:\[no-\])?([a-z0-9-]+)[^\n]*\n((?:        \S[^\n]*\n?)+)", block)
        if match:
            found[match.group(1).replace("-", "_")] = " ".join(match.group(2).split())
    return found


def _waitress_schema(program: str) -> OptionSchema:
    """Waitress' runner builds its getopt list from ``Adjustments._params``; so do we."""
    from waitress.adjustments import Adjustments, asbool

    help_texts = _waitress_help()
    options = []
    for name, cast in Adjustments._params:
        flag = "--" + name.replace("_", "-")
        if name == "sockets":  # not settable from the command line
            continue
        text = help_texts.get(name, "")
        if cast is asbool:
            options.append(Option(name, flag, False, off_flag="--no-" + name.replace("_", "-"), help=text))
        else:
            options.append(Option(name, flag, True, repeatable=name == "listen", help=text))
    options.append(Option("call", "--call", False, help=help_texts.get("call", "")))
    return OptionSchema(program, options)

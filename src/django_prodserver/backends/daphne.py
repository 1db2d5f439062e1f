"""Daphne (ASGI, HTTP/1.1 and websockets on Twisted): options read from daphne's own argparse parser.

Daphne stops by cancelling every running application as soon as SIGTERM arrives, so a request
in flight is cut off. The server we run stops listening first, lets HTTP requests finish
(within :attr:`DaphneServer.graceful_timeout`), closes websockets with a normal close frame,
and only then lets daphne cancel what is left. Its access log, which daphne writes itself rather
than through Python's logging, leaves out successful probes as the other servers' logs do.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django_prodserver import platform
from django_prodserver.args import Setting
from django_prodserver.backends._parsers import ParserRejected, argparse_rejection
from django_prodserver.backends.program import EnvValue
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.resolved import Resolved
from django_prodserver.schemas import OptionSchema, from_argparse

if TYPE_CHECKING:
    from daphne.cli import CommandLineInterface

#: Daphne's ways to listen besides --bind/--port; any of them replaces the default address.
_OTHER_ENDPOINTS = ("unix_socket", "file_descriptor", "socket_strings")


def _cli(server_class: type | None = None) -> CommandLineInterface:
    from daphne.cli import CommandLineInterface

    cli = CommandLineInterface()
    # argparse names itself after sys.argv[0], which is manage.py here.
    cli.parser.prog = "daphne"
    if server_class is not None:
        cli.server_class = server_class
    return cli


ActionLogger = Callable[[str, str, Mapping[str, Any]], None]


def without_probes(log: ActionLogger | None) -> ActionLogger | None:
    """Daphne's access log (its "action logger") without successful probes.

    The gateway's filter decides, as it does for the servers that log through Python's
    logging; an application not served through the gateway keeps every line.
    """
    gateway = sys.modules.get("django_prodserver.gateway")
    if log is None or gateway is None:
        return log
    drops = gateway.ACCESS_FILTER.drops

    def logged(protocol: str, action: str, details: Mapping[str, Any]) -> None:
        if protocol == "http" and action == "complete" and drops(details.get("path"), details.get("status")):
            return
        log(protocol, action, details)

    return logged


def graceful_server(timeout: float) -> type:
    """Daphne's ``Server``, stopping the way the module docstring says, its access log
    without successful probes.

    Built on demand: importing ``daphne.server`` installs Twisted's asyncio reactor, which
    only the process that runs daphne should do.
    """
    from daphne.http_protocol import WebRequest
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import defer
    from twisted.internet import reactor as twisted_reactor

    reactor: Any = twisted_reactor  # the installed reactor; its interfaces are not in its type

    class GracefulServer(Server):  # type: ignore[misc]
        def __init__(self, *args: Any, action_logger: ActionLogger | None = None, **kwargs: Any) -> None:
            # Daphne's CLI has loaded the application (the gateway) before it builds the server.
            super().__init__(*args, action_logger=without_probes(action_logger), **kwargs)

        def listen_success(self, port: Any) -> None:
            self.__dict__.setdefault("listening_ports", []).append(port)
            super().listen_success(port)

        def _requests_in_flight(self) -> bool:
            return any(
                isinstance(protocol, WebRequest)
                and details.get("application_instance") is not None
                and not details["application_instance"].done()
                for protocol, details in self.connections.items()
            )

        def kill_all_applications(self) -> Any:
            for port in self.__dict__.get("listening_ports", []):
                port.stopListening()
            for protocol in list(self.connections):
                if isinstance(protocol, WebSocketProtocol):
                    # A normal close (1000): autobahn lets a server send no other standard
                    # code. A failure here must not cost the requests their drain.
                    with contextlib.suppress(Exception):
                        protocol.serverClose()
            drained: defer.Deferred[None] = defer.Deferred()
            deadline = reactor.seconds() + timeout

            def poll() -> None:
                if self._requests_in_flight() and reactor.seconds() < deadline:
                    reactor.callLater(0.05, poll)
                else:
                    drained.callback(None)

            poll()
            drained.addCallback(lambda _: Server.kill_all_applications(self))
            return drained

    return GracefulServer


class DaphneServer(WebServerBackend):
    program = "daphne"
    module = "daphne"
    extra = "daphne"
    interface = "asgi"
    # One process; its thread pool for sync code is sized by daphne's own ASGI_THREADS.
    workers_option = None
    option_groups = (frozenset({"host", "port", *_OTHER_ENDPOINTS}),)
    # Daphne's address option is --bind; other servers (and its own dest) call it host.
    aliases = {"host": "bind"}
    #: Seconds SIGTERM waits for HTTP requests in flight: within Kubernetes' default 30 s.
    graceful_timeout: ClassVar[float] = platform.GRACEFUL_SECONDS

    def load_schema(self) -> OptionSchema:
        return from_argparse("daphne", _cli().parser)

    def listen_on_port(self, port: str) -> Mapping[str, Any]:
        return {"bind": "0.0.0.0", "port": port}

    def environment(self, environ: Mapping[str, str]) -> Mapping[str, EnvValue]:
        found = dict(super().environment(environ))
        # Daphne trusts proxy headers from every peer or from none: it can honour "*" only.
        forwarded = platform.env_forwarded(environ)
        if forwarded == "*":
            found["proxy-headers"] = EnvValue(True, f"FORWARDED_ALLOW_IPS={forwarded}")
        return found

    def explain(self, resolved: Resolved) -> list[str]:
        notes = [
            n for n in super().explain(resolved) if not n.startswith(f"{self.name}: FORWARDED_ALLOW_IPS")
        ]
        concurrency = platform.env_concurrency(self.environ)
        if concurrency:
            notes.append(
                f"{self.name}: WEB_CONCURRENCY={concurrency} is ignored: daphne serves from one "
                "process; run several processes behind a balancer to use more CPUs."
            )
        forwarded = platform.env_forwarded(self.environ)
        if forwarded and forwarded != "*":
            notes.append(
                f"{self.name}: FORWARDED_ALLOW_IPS={forwarded!r} is ignored: daphne trusts proxy "
                "headers from every peer or from none; set it to '*' (or ARGS 'proxy-headers') "
                "when only your proxy can reach daphne."
            )
        return notes

    def configured_proxy_trust(self) -> str | None:
        headers = self.option("proxy-headers")
        return "*" if headers is not None and headers.argv() == ["--proxy-headers"] else None

    def listen_addresses(self, settings: Mapping[str, Setting]) -> list[tuple[str, int]]:
        host, port = settings.get("host"), settings.get("port")
        if host is None and port is None:
            others = any(settings.get(dest) for dest in _OTHER_ENDPOINTS)
            return [] if others else [("127.0.0.1", 8000)]
        return [(str(host.value) if host else "127.0.0.1", int(port.value) if port else 8000)]

    def parse(self, argv: list[str]) -> None:
        from argparse import ArgumentError

        self.ensure_installed()  # nothing may have asked for the schema yet (no defaults)
        cli = _cli()
        with argparse_rejection("daphne"):
            args = cli.parser.parse_args(argv)
        try:
            # Daphne checks these only when it starts serving (verbosity: a KeyError).
            cli._get_forwarded_host(args)
            cli._get_forwarded_port(args)
        except ArgumentError as exc:
            raise ParserRejected(str(exc)) from None
        if args.verbosity not in range(4):
            raise ParserRejected(f"argument -v/--verbosity: {args.verbosity} is not 0, 1, 2 or 3")

    def run(self, argv: list[str]) -> int:
        _cli(graceful_server(self.graceful_timeout)).run(argv)
        return 0

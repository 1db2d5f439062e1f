"""What every web server backend shares: the app target, the platform contract, the port check."""

from __future__ import annotations

import contextvars
import errno
import os
import socket
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar, Literal

from django_prodserver import platform
from django_prodserver.application import asgi_target, check_target, target_source, to_target, wsgi_target
from django_prodserver.args import Setting, as_list, is_unset
from django_prodserver.backends.base import BaseServerBackend
from django_prodserver.backends.program import EnvValue, ProgramBackend
from django_prodserver.errors import OptionError, PlatformValueError, StartupError
from django_prodserver.records import replace
from django_prodserver.resolved import Resolved, Row, Serving
from django_prodserver.wiring import GATEWAY, GATEWAY_ENV, PROCESS_ENV


class WebServerBackend(ProgramBackend, BaseServerBackend):
    interface: ClassVar[Literal["wsgi", "asgi"]] = "wsgi"
    #: "sync" for blocking workers (sized 2 x CPU + 1), anything else: one per CPU.
    worker_kind: ClassVar[str] = "async"
    #: The option that sets the worker count, or None when the program has no workers.
    workers_option: ClassVar[str | None] = "workers"
    #: The option that lists trusted proxy addresses, or None.
    forwarded_option: ClassVar[str | None] = None
    #: The option naming a TLS certificate: when set, the server terminates TLS itself.
    tls_option: ClassVar[str | None] = None
    host_options: ClassVar[frozenset[str]] = frozenset({"host"})
    #: Options (dests) whose value is "host:port"; a host alone there takes its port from PORT.
    combined_listen_options: ClassVar[frozenset[str]] = frozenset()

    def serves(self) -> Literal["wsgi", "asgi"]:
        """Which application the process serves; gunicorn decides by its worker class."""
        return self.interface

    def sizing(self) -> str:
        """How workers are sized (see ``worker_kind``); gunicorn decides by its worker class."""
        return self.worker_kind

    def app_target(self) -> str:
        """What the server loads: the gateway that answers the probes ahead of the project."""
        return f"{GATEWAY}:{self.serves()}"

    def project_target(self) -> str:
        """The project's own application (APP, or WSGI_/ASGI_APPLICATION) behind the gateway."""
        app = self.process.app if self.process else self.server_args.get("APP")
        if app:
            return to_target(str(app))
        if self.serves() == "asgi":
            return asgi_target(self.name)
        return wsgi_target(self.name)

    def positional(self) -> list[str]:
        return [self.app_target()]

    def validate_resolved(self, resolved: Resolved) -> None:
        app = self.process.app if self.process else self.server_args.get("APP")
        check_target(self.name, self.project_target(), *target_source(self.name, app, self.serves()))

    def listen_on_port(self, port: str) -> Mapping[str, Any]:
        """Options that make the server listen on all interfaces at ``port``."""
        return {"host": "0.0.0.0", "port": port}

    def with_port(self, setting: Setting, port: Setting) -> Setting | None:
        """For servers whose one option says "host:port" (gunicorn's ``bind``)."""
        if setting.option.dest not in self.combined_listen_options:
            return None
        values = setting.value if isinstance(setting.value, (list, tuple)) else [setting.value]
        number = str(as_list(port.value)[0]).rpartition(":")[2]
        if not values or not all(isinstance(v, str) and host_only(v) for v in values):
            return None
        combined = [f"{value}:{number}" for value in values]
        return replace(
            setting,
            value=combined[0] if isinstance(setting.value, str) else combined,
            origin=f"{setting.origin} + {port.origin}",
        )

    def environment(self, environ: Mapping[str, str]) -> Mapping[str, EnvValue]:
        found: dict[str, EnvValue] = {}
        concurrency = platform.concurrency_from_env(environ, self.name) if self.workers_option else None
        try:
            port, problem = platform.port_from_env(environ, self.name), None
        except PlatformValueError as exc:
            # An error only if PORT is used (an ARGS port or socket makes it step aside): the
            # resolver raises it then, so the stand-in port 1 never reaches an argv.
            port, problem = 1, exc
        if port is not None:
            variable = f"PORT={platform.env_port(environ)}"
            for key, value in self.listen_on_port(str(port)).items():
                found[key] = EnvValue(value, variable, problem)
        if concurrency is not None and self.workers_option:
            found[self.workers_option] = EnvValue(str(concurrency), f"WEB_CONCURRENCY={concurrency}")
        forwarded = platform.env_forwarded(environ)
        if forwarded and self.forwarded_option:
            found[self.forwarded_option] = EnvValue(forwarded, f"FORWARDED_ALLOW_IPS={forwarded}")
        return found

    @cached_property
    def worker_budget(self) -> tuple[int, str]:
        """The worker count this machine's CPUs call for, and why (read once: cgroup files)."""
        return platform.default_workers(self.sizing())

    def defaults(self) -> Mapping[str, Any]:
        defaults = dict(self.production_defaults())
        if self.workers_option:
            defaults[self.workers_option] = self.worker_budget[0]
        return defaults

    def production_defaults(self) -> Mapping[str, Any]:
        return {}

    def serving(self, options: Mapping[str, Setting]) -> Serving:
        workers = options.get(self.schema_dest(self.workers_option)) if self.workers_option else None
        try:
            listen = tuple(self.listen_addresses(options))
        except (TypeError, ValueError):
            listen = ()  # malformed: the program's own parser reports it
        for host, port in listen:
            if not 0 <= port <= 65535:  # some parsers take any int; binding would fail
                raise OptionError(
                    f"Process {self.name!r}: cannot listen on {host}:{port}: a TCP port is 0 to 65535; "
                    "fix the address in ARGS, the command line or PORT."
                )
        return Serving(
            app=self.app_target(),
            project_app=self.project_target(),
            interface=self.serves(),
            listen=listen,
            tls=self.tls(options),
            workers=_count(workers.value) if workers else None,
            workers_why=self.worker_budget[1] if workers and workers.source == "default" else None,
        )

    def equivalent_command(self, argv: Sequence[str]) -> list[str]:
        # The gateway finds the project's application in the environment: show it.
        return [f"{GATEWAY_ENV}={self.project_target()}", *super().equivalent_command(argv)]

    def start_server(self, *args: str) -> None:
        os.environ[GATEWAY_ENV] = self.project_target()
        os.environ[PROCESS_ENV] = self.name
        # From an empty context, as the server's own CLI starts: an ASGI server's request tasks
        # inherit the context it runs in, and asgiref copies and restores every inherited
        # variable at each switch between async and sync code (about 28 per Django request).
        # What this command set on the way (Django's script prefix, the language and caches
        # the checks touched, our check scope) cost 7.5 % more instructions per request.
        contextvars.Context().run(super().start_server, *args)

    def tls(self, options: Mapping[str, Setting]) -> bool:
        """Whether the server speaks TLS on its port: a certificate is configured."""
        setting = options.get(self.schema_dest(self.tls_option)) if self.tls_option else None
        return setting is not None and not is_unset(setting.value)

    def explain(self, resolved: Resolved) -> list[str]:
        notes = []
        serving = resolved.serving
        if serving and serving.workers_why:
            notes.append(
                f"{self.name}: {serving.workers} workers: {serving.workers_why}; "
                f"set WEB_CONCURRENCY or ARGS {self.workers_option!r} to change."
            )
        if resolved.config_file:
            notes.append(
                f"{self.name}: {self.program} reads {resolved.config_file}: prodserver adds no defaults "
                "and no PORT/WEB_CONCURRENCY/FORWARDED_ALLOW_IPS options on top of it."
            )
        if platform.env_forwarded(self.environ) and not self.forwarded_option:
            notes.append(
                f"{self.name}: FORWARDED_ALLOW_IPS is ignored: {self.program} cannot take the client "
                "address or scheme from proxy headers."
            )
        return notes

    def rows(self, resolved: Resolved) -> list[Row]:
        rows = super().rows(resolved)
        serving = resolved.serving
        workers = resolved.option(self.schema_dest(self.workers_option)) if self.workers_option else None
        if not (serving and serving.workers_why and workers):
            return rows
        # Say why, as the start-up note does: the count depends on the machine it runs on.
        shown = " ".join(workers.argv())
        return [
            replace(row, origin=f"default: {serving.workers_why}") if row.option == shown else row
            for row in rows
        ]

    def option(self, key: str) -> Setting | None:
        """The final setting of one option (any spelling of it), or None when nothing sets it."""
        return self.resolve().option(self.schema_dest(key))

    # ----- proxies and TLS, for the deploy checks --------------------------------------------

    def configured_proxy_trust(self) -> str | None:
        """The proxies this server was told to believe about the scheme, or None.

        None when nothing (ARGS, the command line, ``FORWARDED_ALLOW_IPS``) told it, or when
        the program cannot trust proxy headers at all.
        """
        setting = self.option(self.forwarded_option) if self.forwarded_option else None
        if setting is None or setting.source in ("default", "backend") or is_unset(setting.value):
            return None
        return str(setting.value)

    def drops_proxy_header(self, meta_name: str) -> bool:
        """Whether the server removes this header (``HTTP_X_FORWARDED_PROTO``) before Django sees it."""
        return False

    def schema_dest(self, key: str | None) -> str:
        """The option dest ``key`` names; "" when it names none (no option has that dest)."""
        lookup = self.schema.lookup(key) if key else None
        return lookup.option.dest if lookup else ""

    # ----- port check ----------------------------------------------------------------------

    def listen_addresses(self, settings: Mapping[str, Setting]) -> list[tuple[str, int]]:
        """TCP (host, port) pairs the server will bind, from the resolved settings by dest."""
        host = settings.get("host")
        port = settings.get("port")
        return [(str(host.value) if host else "127.0.0.1", int(port.value) if port else 8000)]

    def shares_port(self) -> bool:
        """Whether the server binds with SO_REUSEPORT, so a port in use is no error."""
        return False

    def preflight(self) -> None:
        """Fail with one clear line if a TCP address is taken, before the server half-starts."""
        serving = self.resolve().serving
        if self.shares_port():
            return  # SO_REUSEPORT: another server on the same port is what the user asked for
        for host, port in serving.listen if serving else ():
            if port == 0:
                continue
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((host.strip("[]"), port))
                except OSError as exc:
                    if exc.errno != errno.EADDRINUSE:
                        return
                    raise StartupError(
                        f"Process {self.name!r}: cannot listen on {host}:{port}: the address is "
                        "already in use; stop the other server or choose another port "
                        "(ARGS, a command-line override, or PORT)."
                    ) from None


def host_only(address: str) -> bool:
    """``0.0.0.0`` or ``[::]``: an interface without a port (not ``unix:…``, ``fd://…``, ``h:p``)."""
    text = address.strip()
    if not text or text.startswith(("unix:", "fd://", "/")):
        return False
    return text.endswith("]") if text.startswith("[") else ":" not in text


def _count(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None  # the program's own parser reports it

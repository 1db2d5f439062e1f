"""What every web server backend shares: the app target, the platform contract, the port check."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from django_prodserver import platform
from django_prodserver.application import asgi_target, check_target, target_source, to_target, wsgi_target
from django_prodserver.args import Setting, is_unset
from django_prodserver.backends.program import EnvValue, ProgramBackend
from django_prodserver.errors import OptionError, StartupError


class WebServerBackend(ProgramBackend):
    interface: ClassVar[Literal["wsgi", "asgi"]] = "wsgi"
    #: "sync" for blocking workers (sized 2 x CPU + 1), anything else: one per CPU.
    worker_kind: ClassVar[str] = "async"
    #: The option that sets the worker count, or None when the program has no workers.
    workers_option: ClassVar[str | None] = "workers"
    #: The option that lists trusted proxy addresses, or None.
    forwarded_option: ClassVar[str | None] = None
    #: The option naming a TLS certificate: when set, the server terminates TLS itself.
    tls_option: ClassVar[str | None] = None

    def serves(self) -> Literal["wsgi", "asgi"]:
        """Which application the process serves; gunicorn decides by its worker class."""
        return self.interface

    def sizing(self) -> str:
        """How workers are sized (see ``worker_kind``); gunicorn decides by its worker class."""
        return self.worker_kind

    def app_target(self) -> str:
        app = self.process.app if self.process else self.server_args.get("APP")
        if app:
            return to_target(str(app))
        if self.serves() == "asgi":
            return asgi_target(self.name)
        return wsgi_target(self.name)

    def positional(self) -> list[str]:
        return [self.app_target()]

    def validate(self) -> list[str]:
        argv = super().validate()
        app = self.process.app if self.process else self.server_args.get("APP")
        check_target(self.name, self.app_target(), *target_source(self.name, app, self.serves()))
        return argv

    def listen_on_port(self, port: str) -> Mapping[str, Any]:
        """Options that make the server listen on all interfaces at ``port``."""
        return {"host": "0.0.0.0", "port": port}

    def environment(self, environ: Mapping[str, str]) -> Mapping[str, EnvValue]:
        found: dict[str, EnvValue] = {}
        port = platform.env_port(environ)
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise OptionError(
                f"Process {self.name!r}: PORT={port!r} is not a TCP port; set PORT to a number "
                "from 1 to 65535, or unset it."
            )
        concurrency = platform.env_concurrency(environ)
        if concurrency and self.workers_option and not (concurrency.isdigit() and int(concurrency) > 0):
            raise OptionError(
                f"Process {self.name!r}: WEB_CONCURRENCY={concurrency!r} is not a worker count; set it "
                "to a whole number of at least 1, or unset it."
            )
        if port:
            for key, value in self.listen_on_port(port).items():
                found[key] = EnvValue(value, f"PORT={port}")
        if concurrency and self.workers_option:
            found[self.workers_option] = EnvValue(concurrency, f"WEB_CONCURRENCY={concurrency}")
        forwarded = platform.env_forwarded(environ)
        if forwarded and self.forwarded_option:
            found[self.forwarded_option] = EnvValue(forwarded, f"FORWARDED_ALLOW_IPS={forwarded}")
        return found

    def defaults(self) -> Mapping[str, Any]:
        defaults = dict(self.production_defaults())
        if self.workers_option:
            count, _ = platform.default_workers(self.sizing())
            defaults[self.workers_option] = count
        return defaults

    def production_defaults(self) -> Mapping[str, Any]:
        return {}

    def _default_workers(self) -> Setting | None:
        """The worker count when prodserver chose it (no ARGS, override or WEB_CONCURRENCY)."""
        setting = self.resolved(self.workers_option) if self.workers_option else None
        return setting if setting is not None and setting.source == "default" else None

    def notes(self) -> list[str]:
        """One line for each choice prodserver made on the user's behalf, printed at start."""
        notes = []
        workers = self._default_workers()
        if workers is not None:
            _, why = platform.default_workers(self.sizing())
            notes.append(
                f"{self.name}: {workers.value} workers: {why}; "
                f"set WEB_CONCURRENCY or ARGS {self.workers_option!r} to change."
            )
        config = self.config_file()
        if config:
            notes.append(
                f"{self.name}: {self.program} reads {config}: prodserver adds no defaults and no "
                "PORT/WEB_CONCURRENCY/FORWARDED_ALLOW_IPS options on top of it."
            )
        if platform.env_forwarded(os.environ) and not self.forwarded_option:
            notes.append(
                f"{self.name}: FORWARDED_ALLOW_IPS is ignored: {self.program} cannot take the client "
                "address or scheme from proxy headers."
            )
        return notes

    def describe(self) -> list[tuple[str, str, str]]:
        rows = super().describe()
        workers = self._default_workers()
        if workers is None:
            return rows
        # Say why, as the start-up note does: the count depends on the machine it runs on.
        _, why = platform.default_workers(self.sizing())
        shown = " ".join(workers.argv())
        return [
            (option, f"default: {why}" if option == shown else origin, source)
            for option, origin, source in rows
        ]

    def resolved(self, key: str) -> Setting | None:
        """The final setting of one option (any spelling of it), or None when nothing sets it."""
        dest = self.schema_dest(key)
        return next((s for s in self.settings() if s.option.dest == dest), None)

    # ----- proxies and TLS, for the deploy checks --------------------------------------------

    def configured_proxy_trust(self) -> str | None:
        """The proxies this server was told to believe about the scheme, or None.

        None when nothing (ARGS, the command line, ``FORWARDED_ALLOW_IPS``) told it, or when
        the program cannot trust proxy headers at all.
        """
        setting = self.resolved(self.forwarded_option) if self.forwarded_option else None
        if setting is None or setting.source in ("default", "backend") or is_unset(setting.value):
            return None
        return str(setting.value)

    def drops_proxy_header(self, meta_name: str) -> bool:
        """Whether the server removes this header (``HTTP_X_FORWARDED_PROTO``) before Django sees it."""
        return False

    def terminates_tls(self) -> bool:
        setting = self.resolved(self.tls_option) if self.tls_option else None
        return setting is not None and not is_unset(setting.value)

    def listen_addresses_resolved(self) -> list[tuple[str, int]]:
        try:
            return self.listen_addresses({s.option.dest: s for s in self.settings()})
        except (TypeError, ValueError):
            return []

    def schema_dest(self, key: str) -> str | None:
        lookup = self.schema.lookup(key)
        return lookup.option.dest if lookup else None

    # ----- port check ----------------------------------------------------------------------

    def listen_addresses(self, settings: Mapping[str, Setting]) -> list[tuple[str, int]]:
        """TCP (host, port) pairs the server will bind, from the resolved settings by dest."""
        host = settings.get("host")
        port = settings.get("port")
        return [(str(host.value) if host else "127.0.0.1", int(port.value) if port else 8000)]

    def preflight(self) -> None:
        """Fail with one clear line if a TCP address is taken, before the server half-starts."""
        by_dest = {s.option.dest: s for s in self.settings()}
        try:
            addresses = self.listen_addresses(by_dest)
        except (TypeError, ValueError):
            return  # the program's own parser reports malformed addresses
        for host, port in addresses:
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

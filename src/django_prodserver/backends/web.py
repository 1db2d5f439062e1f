"""What every web server backend shares: the app target, the platform contract, the port check."""

from __future__ import annotations

import errno
import socket
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from django_prodserver import platform
from django_prodserver.application import asgi_target, check_target, target_source, to_target, wsgi_target
from django_prodserver.args import Setting
from django_prodserver.backends.program import EnvValue, ProgramBackend
from django_prodserver.errors import StartupError


class WebServerBackend(ProgramBackend):
    interface: ClassVar[Literal["wsgi", "asgi"]] = "wsgi"
    #: "sync" for blocking workers (sized 2 x CPU + 1), anything else: one per CPU.
    worker_kind: ClassVar[str] = "async"
    #: The option that sets the worker count, or None when the program has no workers.
    workers_option: ClassVar[str | None] = "workers"
    #: The option that lists trusted proxy addresses, or None.
    forwarded_option: ClassVar[str | None] = None

    def app_target(self) -> str:
        app = self.process.app if self.process else self.server_args.get("APP")
        if app:
            return to_target(str(app))
        if self.interface == "asgi":
            return asgi_target(self.name)
        return wsgi_target(self.name)

    def positional(self) -> list[str]:
        return [self.app_target()]

    def validate(self) -> list[str]:
        argv = super().validate()
        app = self.process.app if self.process else self.server_args.get("APP")
        check_target(self.name, self.app_target(), *target_source(self.name, app, self.interface))
        return argv

    def listen_on_port(self, port: str) -> Mapping[str, Any]:
        """Options that make the server listen on all interfaces at ``port``."""
        return {"host": "0.0.0.0", "port": port}

    def environment(self, environ: Mapping[str, str]) -> Mapping[str, EnvValue]:
        found: dict[str, EnvValue] = {}
        port = platform.env_port(environ)
        if port:
            for key, value in self.listen_on_port(port).items():
                found[key] = EnvValue(value, f"PORT={port}")
        concurrency = platform.env_concurrency(environ)
        if concurrency and self.workers_option:
            found[self.workers_option] = EnvValue(concurrency, f"WEB_CONCURRENCY={concurrency}")
        forwarded = platform.env_forwarded(environ)
        if forwarded and self.forwarded_option:
            found[self.forwarded_option] = EnvValue(forwarded, f"FORWARDED_ALLOW_IPS={forwarded}")
        return found

    def defaults(self) -> Mapping[str, Any]:
        defaults = dict(self.production_defaults())
        if self.workers_option:
            count, _ = platform.default_workers(self.worker_kind)
            defaults[self.workers_option] = count
        return defaults

    def production_defaults(self) -> Mapping[str, Any]:
        return {}

    def notes(self) -> list[str]:
        """One line for each choice prodserver made on the user's behalf, printed at start."""
        notes = []
        if self.workers_option:
            for setting in self.settings():
                if setting.option.dest == self.schema_dest(self.workers_option) and setting.source == "default":
                    _, why = platform.default_workers(self.worker_kind)
                    notes.append(
                        f"{self.name}: {setting.value} workers: {why}; "
                        f"set WEB_CONCURRENCY or ARGS {self.workers_option!r} to change."
                    )
        return notes

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

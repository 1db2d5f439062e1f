"""Gunicorn: options read from gunicorn's own argparse parser (built from its settings registry)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal

from django_prodserver import platform
from django_prodserver.args import Setting, as_list, is_unset
from django_prodserver.backends._gunicorn_workers import (
    WorkerClassError,
    gunicorn_parser,
    is_asgi_worker,
    load_worker_class,
    parsed_options,
)
from django_prodserver.backends._parsers import ParserRejected, argparse_rejection
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.errors import OptionError, PlatformValueError
from django_prodserver.masking import mask_text
from django_prodserver.records import replace
from django_prodserver.resolved import Resolved, Serving
from django_prodserver.schemas import OptionSchema, from_argparse


class GunicornServer(WebServerBackend):
    program = "gunicorn"
    module = "gunicorn"
    extra = "gunicorn"
    worker_kind = "sync"
    forwarded_option = "forwarded-allow-ips"
    tls_option = "certfile"
    option_groups = (frozenset({"bind"}),)
    combined_listen_options = frozenset({"bind"})
    detaching_options = frozenset({"daemon"})
    graceful_option = "graceful-timeout"

    def load_schema(self) -> OptionSchema:
        return from_argparse("gunicorn", gunicorn_parser(), skip={"args"})

    # ----- the worker class decides the application (see _gunicorn_workers) ------------------

    @cached_property
    def environment_options(self) -> Mapping[str, str]:
        """What gunicorn's own parser reads from GUNICORN_CMD_ARGS (dest → value), read once.

        GUNICORN_CMD_ARGS sits beneath the command line: a default of ours there would
        silently beat what the user set in it.
        """
        return parsed_options(platform.gunicorn_args_from_env(self.environ, self.name))

    @cached_property
    def worker_class(self) -> str:
        """The worker class from the backend, ARGS, the command line or GUNICORN_CMD_ARGS."""
        raw = self._raw_args()
        if raw is None:
            setting = self.requested.get("worker_class")
            chosen = None if setting is None or is_unset(setting.value) else str(setting.value)
        else:
            fixed = [a for s in self.fixed_settings for a in s.argv()]
            overrides = [a for s in self.user_settings[1] for a in s.argv()]
            chosen = parsed_options([*fixed, *raw, *overrides]).get("worker_class")
        return chosen or self.environment_options.get("worker_class") or "sync"

    def serves(self) -> Literal["wsgi", "asgi"]:
        return "asgi" if is_asgi_worker(self.worker_class) else "wsgi"

    def sizing(self) -> str:
        # An ASGI worker runs an event loop: one per CPU, not 2 x CPU + 1.
        return "async" if self.serves() == "asgi" else self.worker_kind

    def serving(self, options: Mapping[str, Setting]) -> Serving:
        return replace(super().serving(options), worker_class=self.worker_class)

    def validate_resolved(self, resolved: Resolved) -> None:
        super().validate_resolved(resolved)
        # What the key checks cannot see: the short -D in raw ARGS, and GUNICORN_CMD_ARGS.
        if self.environment_options.get("daemon") == "True":
            raise self._detaching("GUNICORN_CMD_ARGS option 'daemon'")
        self._check_cmd_args_variable()
        parsed = parsed_options(list(resolved.argv))
        if parsed.get("daemon") == "True":
            raise self._detaching("ARGS option '-D'")
        self._refuse_no_workers(resolved, parsed)
        if "bind" not in parsed and "bind" not in self.environment_options:
            # Then gunicorn's own default applies, which it builds from PORT: with a config
            # file or raw ARGS, prodserver passes no --bind, but PORT is still read.
            platform.port_from_env(self.environ, self.name)
        try:
            load_worker_class(self.worker_class)
        except WorkerClassError as exc:
            # Gunicorn would fail only after start-up, in its master.
            raise OptionError(
                f"Process {self.name!r}: gunicorn worker class {self.worker_class!r} {exc}"
            ) from None

    def program_environment(self) -> Mapping[str, str]:
        return dict.fromkeys(self.environment_options, "GUNICORN_CMD_ARGS")

    def _refuse_no_workers(self, resolved: Resolved, parsed: Mapping[str, str]) -> None:
        """gunicorn's parser takes ``workers = 0``: a master that holds the port and never answers."""
        kind: type[OptionError] = OptionError
        if "workers" in parsed:
            value = parsed["workers"]
            setting = resolved.options.get("workers")
            where = setting.origin if setting is not None else "ARGS option 'workers'"
        else:  # this machine's variable, not the project's setting: a deploy check
            value, kind = self.environment_options.get("workers", ""), PlatformValueError
            where = "GUNICORN_CMD_ARGS option 'workers'"
        if value.strip() == "0":
            raise kind(
                f"Process {self.name!r}: {where} = 0 starts no gunicorn worker, so nothing would "
                "answer; use 1 or more, or leave it out (prodserver then sizes it to the CPUs)."
            )

    def _check_cmd_args_variable(self) -> None:
        """Gunicorn parses GUNICORN_CMD_ARGS with its own parser as it starts: a typo there
        (``--wrkers 3``) would stop it then, in two lines of usage naming no process."""
        args = platform.gunicorn_args_from_env(self.environ, self.name)
        if not args:
            return
        try:
            with argparse_rejection("gunicorn"):
                gunicorn_parser().parse_args(args)
        except ParserRejected as exc:
            shown = mask_text(repr(self.environ["GUNICORN_CMD_ARGS"]))
            raise PlatformValueError(
                f"Process {self.name!r}: GUNICORN_CMD_ARGS={shown} is rejected by gunicorn: "
                f"{mask_text(str(exc))}; fix it, or unset it where the process runs."
            ) from None

    def find_config_file(self) -> str | None:
        # Gunicorn also reads ./gunicorn.conf.py on its own, and reads PORT, WEB_CONCURRENCY
        # and FORWARDED_ALLOW_IPS itself as the defaults beneath that file.
        named = super().find_config_file() or self.environment_options.get("config")
        if named:
            return named
        return "gunicorn.conf.py" if os.path.isfile("gunicorn.conf.py") else None

    def listen_on_port(self, port: str) -> Mapping[str, Any]:
        return {"bind": f"0.0.0.0:{port}"}

    def production_defaults(self) -> Mapping[str, Any]:
        # No access log unless ARGS ask for one, as gunicorn itself: its log line measured
        # 1-17 % of CPU per request (benchmarks/README.md), more than a default may cost.
        return {
            # Above common load-balancer idle timeouts (AWS ALB: 60 s), so the balancer, not
            # gunicorn, closes idle connections; applies to the gthread and async workers.
            "keep-alive": platform.KEEP_ALIVE_SECONDS,
            # Finish in-flight requests on SIGTERM within Kubernetes' default 30 s grace period.
            "graceful-timeout": platform.GRACEFUL_SECONDS,
        }

    def shares_port(self) -> bool:
        reuse = self.resolve().option("reuse_port")
        return reuse is not None and reuse.argv() == ["--reuse-port"]

    def listen_addresses(self, settings: Mapping[str, Setting]) -> list[tuple[str, int]]:
        from gunicorn.util import parse_address

        bind = settings.get("bind")
        addresses = []
        for value in as_list(bind.value if bind else "127.0.0.1:8000"):
            try:
                addresses.append(parse_address(str(value)))
            except RuntimeError as exc:  # gunicorn's parser takes any string; its start would not
                origin = bind.origin if bind else "bind"
                raise OptionError(
                    f"Process {self.name!r}: {origin} = {value!r} is rejected by gunicorn: {exc}"
                ) from None
        # A Unix socket comes back as its path, a file descriptor as an int.
        return [(str(host), int(port)) for host, port in filter(_is_tcp, addresses)]

    def parse(self, argv: list[str]) -> None:
        from gunicorn.config import Config

        with argparse_rejection("gunicorn"):
            namespace = gunicorn_parser().parse_args(argv)
        cfg = Config(prog="gunicorn")
        try:
            for key, value in vars(namespace).items():
                if value is not None and key != "args":
                    cfg.set(key.lower(), value)
        except (ValueError, TypeError) as exc:
            raise ParserRejected(str(exc)) from None

    def run(self, argv: list[str]) -> int:
        from gunicorn.app.wsgiapp import WSGIApplication

        class ExplicitArgvApplication(WSGIApplication):  # type: ignore[misc]
            """gunicorn's own application, parsing our argv instead of ``sys.argv``."""

            def load_default_config(self) -> None:
                super().load_default_config()
                make_parser = self.cfg.parser

                def parser() -> Any:
                    built = make_parser()
                    parse_args = built.parse_args
                    built.parse_args = lambda args=None, namespace=None: parse_args(
                        argv if args is None else args, namespace
                    )
                    return built

                self.cfg.parser = parser

        ExplicitArgvApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn").run()
        return 0


class GunicornUvicornServer(GunicornServer):
    """Gunicorn's process manager running uvicorn's event loop, serving the ASGI application."""

    extra = "uvicorn-worker"
    interface = "asgi"
    worker_module = "uvicorn_worker"

    def ensure_installed(self) -> None:
        super().ensure_installed()
        self.require_module(self.worker_module, "uvicorn-worker")

    def fixed_options(self) -> Mapping[str, Any]:
        return {**super().fixed_options(), "worker-class": "uvicorn_worker.UvicornWorker"}


def _is_tcp(address: object) -> bool:
    return isinstance(address, tuple)

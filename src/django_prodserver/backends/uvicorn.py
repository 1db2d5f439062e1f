"""Uvicorn, ASGI and WSGI: options read from uvicorn's own click command."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from django_prodserver import platform
from django_prodserver.backends._exec import replace_process
from django_prodserver.backends._parsers import click_rejection
from django_prodserver.backends._signals import absorb_stop_signals
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.schemas import OptionSchema, click_env_variables, from_click


class UvicornServer(WebServerBackend):
    program = "uvicorn"
    module = "uvicorn"
    extra = "uvicorn"
    interface: ClassVar[Literal["wsgi", "asgi"]] = "asgi"
    forwarded_option = "forwarded-allow-ips"
    tls_option = "ssl-certfile"
    option_groups = (frozenset({"host", "port", "uds", "fd"}),)
    graceful_option = "timeout-graceful-shutdown"

    def load_schema(self) -> OptionSchema:
        from uvicorn.main import main

        return from_click("uvicorn", main)

    def program_environment(self) -> Mapping[str, str]:
        return click_env_variables(self.schema, "UVICORN", self.environ)

    def fixed_options(self) -> Mapping[str, Any]:
        # "auto" would guess from the app object; Django's is plainly ASGI 3.
        return {"interface": "asgi3"}

    def production_defaults(self) -> Mapping[str, Any]:
        return {
            # Above common load-balancer idle timeouts (AWS ALB: 60 s); uvicorn's own is 5 s,
            # which makes the balancer reuse connections uvicorn already closed (502s).
            "timeout-keep-alive": platform.KEEP_ALIVE_SECONDS,
            # Uvicorn waits forever for open connections by default; bound it to finish within
            # Kubernetes' default 30 s grace period.
            "timeout-graceful-shutdown": platform.GRACEFUL_SECONDS,
        }

    def configured_proxy_trust(self) -> str | None:
        headers = self.option("proxy-headers")
        if headers is not None and "--no-proxy-headers" in headers.argv():
            return None  # trusts nobody, whatever forwarded-allow-ips says
        return super().configured_proxy_trust()

    def parse(self, argv: list[str]) -> None:
        from uvicorn.main import main

        with click_rejection():
            main.make_context("uvicorn", list(argv))

    def run(self, argv: list[str]) -> int:
        serving = self.resolve().serving
        if serving and serving.workers and serving.workers > 1:
            # Uvicorn spawns its workers as fresh interpreters: a master holding Django would
            # share nothing with them. Become uvicorn's own CLI instead (same PID, same argv).
            replace_process(sys.executable, [sys.executable, "-m", "uvicorn", *argv])
        from uvicorn.main import main

        with absorb_stop_signals():
            main.main(args=argv, prog_name="uvicorn", standalone_mode=False)
        return 0


class UvicornWSGIServer(UvicornServer):
    interface = "wsgi"

    def fixed_options(self) -> Mapping[str, Any]:
        # Without it uvicorn calls Django's WSGI handler as ASGI: it starts, then every
        # request is a 500.
        return {"interface": "wsgi"}

"""Granian, ASGI and WSGI: options read from granian's own click command.

The spec documents several names that granian spells differently today; they map onto the
real options here (``address`` → ``--host``, ``log-access`` → ``--access-log``, …).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_prodserver import platform
from django_prodserver.args import is_unset
from django_prodserver.backends._parsers import click_rejection
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.schemas import OptionSchema, click_env_variables, from_click, normalize_key

ENV_PREFIX = "GRANIAN"


class _GranianServer(WebServerBackend):
    program = "granian"
    module = "granian"
    extra = "granian"
    option_groups = (frozenset({"host", "port", "uds"}),)
    tls_option = "ssl-certificate"
    graceful_option = "workers-kill-timeout"
    aliases = {
        "address": "host",
        "log-access": "access-log",
        "ssl-cert": "ssl-certificate",
        "ssl-key": "ssl-keyfile",
    }

    def load_schema(self) -> OptionSchema:
        from granian.cli import cli

        return from_click("granian", cli)

    def program_environment(self) -> Mapping[str, str]:
        return click_env_variables(self.schema, ENV_PREFIX, self.environ)

    def fixed_options(self) -> Mapping[str, Any]:
        # Granian's default interface is RSGI: a Django app starts, then answers 500.
        return {"interface": self.interface}

    def production_defaults(self) -> Mapping[str, Any]:
        # No access log unless ARGS ask for one, as granian itself: its log line measured
        # 29-38 % of CPU per request (benchmarks/README.md), more than a default may cost.
        return {
            # Granian waits forever for workers to stop; bound it within Kubernetes' 30 s.
            "workers-kill-timeout": platform.GRACEFUL_SECONDS,
        }

    def parse(self, argv: list[str]) -> None:
        from granian.cli import cli

        with click_rejection():
            cli.make_context("granian", list(argv), auto_envvar_prefix=ENV_PREFIX)

    def run(self, argv: list[str]) -> int:
        from granian.cli import cli

        # The granian binary passes auto_envvar_prefix; cli.main() alone would ignore GRANIAN_*.
        cli.main(args=argv, prog_name="granian", auto_envvar_prefix=ENV_PREFIX)
        return 0


class GranianWSGIServer(_GranianServer):
    interface = "wsgi"
    # Granian's WSGI thread pool is its "blocking threads".
    aliases = {**_GranianServer.aliases, "threads": "blocking-threads"}


class GranianASGIServer(_GranianServer):
    interface = "asgi"
    aliases = {**_GranianServer.aliases, "threads": "runtime-threads"}

    def adapt(self, key: str, value: Any) -> tuple[str, Any]:
        # Granian runs ASGI apps with exactly one blocking thread (more is a start-up error);
        # what the spec's "blocking-threads" asks for — more threads per worker — is granian's
        # runtime threads.
        # Only where runtime threads exist (granian 2); 1.x keeps its own meaning.
        if (
            normalize_key(key) == "blocking-threads"
            and not is_unset(value)
            and self.schema.lookup("runtime-threads") is not None
        ):
            try:
                if int(value) > 1:
                    return "runtime-threads", value
            except (TypeError, ValueError):
                pass
        return key, value

"""Hypercorn (ASGI, HTTP/1.1, HTTP/2 and, with aioquic, HTTP/3): options read from its own parser.

Hypercorn builds its argparse parser inside ``main()``, so there is nothing to import. We let
``main()`` build it and stop it at ``parse_args`` (for the schema), or let it parse and
build its ``Config`` with ``run`` swapped out (for validation and for starting): every
option, default and config-file rule stays hypercorn's own.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import signal
import types
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django_prodserver import platform
from django_prodserver.args import Setting, as_list
from django_prodserver.backends._addresses import tcp_address
from django_prodserver.backends._parsers import ParserRejected, argparse_rejection
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.errors import OptionError
from django_prodserver.resolved import Resolved
from django_prodserver.schemas import OptionSchema, from_argparse

if TYPE_CHECKING:
    from hypercorn.config import Config


class _ParserBuilt(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


class _StopAtParse(argparse.ArgumentParser):
    """The parser hypercorn's ``main()`` builds, named after the program, stopped before parsing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prog", "hypercorn")
        super().__init__(*args, **kwargs)

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:
        raise _ParserBuilt(self)


class _NamedParser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prog", "hypercorn")
        super().__init__(*args, **kwargs)


@contextlib.contextmanager
def _argparse_in_main(parser_class: type[argparse.ArgumentParser]) -> Iterator[Any]:
    """Give hypercorn's ``__main__`` an ``argparse`` whose parser class is ours, and only it."""
    import hypercorn.__main__ as entry

    proxy = types.ModuleType("argparse")
    proxy.__dict__.update(vars(argparse))
    proxy.ArgumentParser = parser_class  # type: ignore[attr-defined]
    original = entry.argparse  # type: ignore[attr-defined]
    entry.argparse = proxy  # type: ignore[attr-defined]
    try:
        yield entry
    finally:
        entry.argparse = original  # type: ignore[attr-defined]


def hypercorn_parser() -> argparse.ArgumentParser:
    with _argparse_in_main(_StopAtParse) as entry:
        try:
            # Any non-empty argv: main() falls back to sys.argv for an empty one.
            entry.main(["app:app"])
        except _ParserBuilt as built:
            return built.parser
    raise RuntimeError("hypercorn's main() did not build its argument parser")


def hypercorn_config(argv: list[str]) -> Config:
    """The ``Config`` hypercorn's ``main()`` builds from ``argv``, without running anything.

    Raises :class:`ParserRejected` with hypercorn's own message for what its parser or its
    config-file loader refuses.
    """
    captured: list[Config] = []

    def capture(config: Config) -> int:
        captured.append(config)
        return 0

    with _argparse_in_main(_NamedParser) as entry:
        real_run = entry.run
        entry.run = capture
        try:
            with argparse_rejection("hypercorn"):
                entry.main(list(argv))
        except (OSError, ImportError, ValueError, TypeError) as exc:  # e.g. --config names a missing file
            raise ParserRejected(str(exc)) from None
        finally:
            entry.run = real_run
    return captured[0]


def _ignore_sigterm_in_worker() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class _WorkerSignals:
    """Unpickled first thing in each spawned worker: the worker then ignores SIGTERM.

    With ``--workers`` ≥ 1 hypercorn's master sets a shutdown event on SIGTERM, and each
    worker finishes its requests within ``graceful_timeout``. But as soon as the first worker
    (usually an idle one) has exited, the master SIGTERMs the others, and with the default
    handler they die mid-request. Ignoring SIGTERM in the workers (as hypercorn already
    ignores SIGINT there) leaves the stop to the shutdown event; a SIGTERM sent to the whole
    process group (systemd, Ctrl-C's SIGINT, our supervisor) then stops them gracefully too.
    """

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_ignore_sigterm_in_worker, ())


class HypercornServer(WebServerBackend):
    program = "hypercorn"
    module = "hypercorn"
    extra = "hypercorn"
    interface = "asgi"
    tls_option = "certfile"
    option_groups = (frozenset({"binds"}),)
    combined_listen_options = frozenset({"binds"})
    graceful_option = "graceful-timeout"

    def load_schema(self) -> OptionSchema:
        return from_argparse("hypercorn", hypercorn_parser())

    def listen_on_port(self, port: str) -> Mapping[str, Any]:
        return {"bind": f"0.0.0.0:{port}"}

    def production_defaults(self) -> Mapping[str, Any]:
        # No access log unless ARGS ask for one, as hypercorn itself: gunicorn's and granian's
        # log lines measured 1-38 % of CPU per request (benchmarks/README.md).
        return {
            # Above common load-balancer idle timeouts (AWS ALB: 60 s); hypercorn's own 5 s
            # makes the balancer reuse connections hypercorn already closed (502s).
            "keep-alive": platform.KEEP_ALIVE_SECONDS,
            # Hypercorn gives in-flight requests 3 s after SIGTERM; finish them within
            # Kubernetes' default 30 s grace period instead.
            "graceful-timeout": platform.GRACEFUL_SECONDS,
        }

    def listen_addresses(self, settings: Mapping[str, Setting]) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        for dest, fallback in (("binds", ["127.0.0.1:8000"]), ("insecure_binds", [])):
            setting = settings.get(dest)
            for bind in as_list(setting.value) if setting else fallback:
                address = tcp_address(str(bind), default_host="127.0.0.1", default_port=8000)
                found += [address] if address else []
        return found

    def parse(self, argv: list[str]) -> None:
        hypercorn_config(argv)

    def validate_resolved(self, resolved: Resolved) -> None:
        super().validate_resolved(resolved)
        argv = list(resolved.argv)
        cert, key = resolved.option("certfile"), resolved.option("keyfile")
        lone = [(s, other) for s, other in ((cert, "keyfile"), (key, "certfile")) if s is not None]
        if len(lone) == 1:
            given, missing = lone[0]
            raise OptionError(
                f"Process {self.name!r}: {given.origin} is set without {missing!r}: hypercorn serves "
                f"TLS only with both, and would serve plain HTTP; set {missing!r} too."
            )
        config = hypercorn_config(argv)
        if config.ssl_enabled and cert is not None and key is not None:
            # Hypercorn loads the certificate only in its workers, after start-up; a wrong
            # path or a key that does not match then kills every worker.
            try:
                config.create_ssl_context()
            except (OSError, ValueError) as exc:
                raise OptionError(
                    f"Process {self.name!r}: hypercorn cannot load the TLS certificate {cert.origin} = "
                    f"{cert.value!r} with the key {key.origin} = {key.value!r}: {exc}."
                ) from None

    def run(self, argv: list[str]) -> int:
        from hypercorn.run import run

        config = hypercorn_config(argv)
        if config.workers == 1 and not config.use_reloader:
            # Hypercorn spawns even a single worker as a fresh interpreter, which imports Django
            # again beside this process that already has: measured 1.35x the CLI's start-up and
            # 1.3x its memory. One worker needs no master: serve here, as hypercorn's own
            # '--workers 0' does (it stops gracefully on SIGTERM within graceful-timeout).
            config.workers = 0
        config._prodserver_worker_signals = _WorkerSignals()  # type: ignore[attr-defined]
        status = run(config)
        # The master returns once it has told the workers to stop; wait for them to finish
        # their requests (each within graceful_timeout) so the process exits after they do.
        for worker in multiprocessing.active_children():
            worker.join()
        return status

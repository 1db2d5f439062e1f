"""``manage.py prodserver``: parse, delegate to conf/backends/supervisor, report errors in one line."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence
from typing import Any, ClassVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_prodserver import collector, kinds
from django_prodserver.backends import names
from django_prodserver.backends.base import BaseProcessBackend
from django_prodserver.checks import (
    NOT_BEFORE_A_START,
    only_processes,
    process_errors,
    shared_port,
    without_tags,
)
from django_prodserver.conf import health_settings
from django_prodserver.conf.processes import all_processes, get_process
from django_prodserver.errors import ProdserverError
from django_prodserver.loading import load_backend, reusing_backends
from django_prodserver.resolved import Kind

#: The options that inspect the processes and start none (they run their own checks, or none).
INSPECTS = ("list", "check", "export", "healthcheck")
#: And with --dry-run, those that start nothing at all.
STARTS_NOTHING = (*INSPECTS, "dry_run")


def _parse_with_overrides(
    parser: CommandParser, args: Sequence[str] | None = None, namespace: Any = None
) -> Any:
    """Options we do not know go to the program (``prodserver web --workers=8``), as does all after ``--``."""
    args = list(args or [])
    after: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, after = args[:cut], args[cut + 1 :]
    ns, unknown = argparse.ArgumentParser.parse_known_args(parser, args, namespace)
    # argparse takes "--opt=a value with spaces" for a positional; it is an option all the same.
    spaced = [name for name in ns.names if name.startswith("-")]
    ns.names = [name for name in ns.names if not name.startswith("-")]
    ns.overrides = [*spaced, *unknown, *after]
    return ns


class Command(BaseCommand):
    help = (
        "Start a production process from PRODUCTION_PROCESSES (the first one when no name is "
        "given); several names or --all run them together. Options after the name go to the "
        "program, e.g. 'prodserver web --workers=8'."
    )
    #: The kind of process this command runs; None: both (``server`` and ``worker`` set it).
    process_kind: ClassVar[Kind | None] = None

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.parse_args = lambda args=None, namespace=None: _parse_with_overrides(parser, args, namespace)  # type: ignore[method-assign,assignment]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        # Never read settings here: 'manage.py help prodserver' must work with a broken setting.
        parser.add_argument(
            "names", nargs="*", metavar="NAME", help="process names from PRODUCTION_PROCESSES"
        )
        parser.add_argument("--all", action="store_true", help="run every configured process together")
        parser.add_argument("--list", action="store_true", help="list processes with their commands")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would run, with where each option came from"
        )
        parser.add_argument(
            "--check", action="store_true", help="validate the processes without starting them"
        )
        parser.add_argument(
            "--healthcheck",
            action="store_true",
            help="probe the web process' liveness page or a worker's heartbeat on this machine (every "
            "process a running supervisor runs when no NAME is given); exit 0 if healthy, else 1",
        )
        parser.add_argument(
            "--ready",
            action="store_true",
            help="with --healthcheck: check readiness instead (a worker that cannot reach its broker "
            "or task database, a web process' readiness page); exit 1 when not ready",
        )
        parser.add_argument(
            "--export",
            metavar="FORMAT",
            help="write the platform files (procfile, systemd, compose, kubernetes, dockerfile, "
            "supervisord, fly, render) for the processes; with --check, fail when --output is stale",
        )
        parser.add_argument("--output", metavar="DIR", help="the directory --export writes into")

    def execute(self, *args: Any, **options: Any) -> Any:
        # The collector stays paused until the start (collector.py); from the command line it
        # already is, since Django created this app's config.
        collector.pause()
        try:
            # The checks below and the start share each backend: it resolves and validates once.
            with reusing_backends():
                return self._execute(*args, **options)
        finally:
            collector.resume()

    def _execute(self, *args: Any, **options: Any) -> Any:
        names = options.get("names") or []
        # These start nothing and run checks of their own, or none: --healthcheck runs every
        # few seconds and must answer fast. A start and --dry-run (what a start would run)
        # check the settings and warn first; Django's checks run before a start only.
        inspects = any(options.get(o) for o in INSPECTS)
        settings_first = not options.get("skip_checks") and not inspects
        if inspects or options.get("dry_run"):
            options["skip_checks"] = True
        try:
            kinds.require(self.process_kind, names)
            # --all: every process is checked here, once; the children then skip their checks.
            if options.get("all"):
                scope = kinds.names_of(self.process_kind)
            else:
                scope = names or kinds.first(self.process_kind)
            if settings_first:
                from django_prodserver.conf.supervisor_settings import supervisor
                from django_prodserver.health import resolve_checks

                # One line here, rather than in Django's SystemCheckError block.
                supervisor()
                resolve_checks(health_settings.health().ready_checks)
        except ProdserverError as exc:
            raise CommandError(str(exc)) from None
        if not options.get("skip_checks"):
            # Our own problems as plain lines; Django's checks would wrap them in a
            # multi-line SystemCheckError block.
            errors = process_errors(scope)
            if errors:
                # Chained, so --traceback shows what a user's module raised (e.g. a Celery APP).
                raise CommandError("\n".join(map(str, errors))) from errors[0]
            clash = shared_port(scope) if len(scope) > 1 else None
            if clash:
                raise CommandError(clash)
        if settings_first:
            self._warn_of_unread_keys(scope)
        # The processes in scope were just checked: Django's own run (all other checks)
        # need not validate them a second time.
        with only_processes(()):
            return super().execute(*args, **options)

    def _warn_of_unread_keys(self, scope: Sequence[str]) -> None:
        """Say what Django's check run would have warned of the processes in scope (it leaves
        them to us): a key that nothing reads, a typo that would do nothing."""
        from django_prodserver.check_ids import W007

        for name in scope:
            try:
                backend = load_backend(get_process(name))
            except ProdserverError:
                continue  # a malformed entry: what runs next reports it
            for text in backend.unread_keys():
                self.stderr.write(f"prodserver: warning: {text} ({W007.id})")

    def check(self, *args: Any, **kwargs: Any) -> None:
        """Django's checks, but for those that concern other commands only (NOT_BEFORE_A_START)."""
        with without_tags(NOT_BEFORE_A_START):
            super().check(*args, **kwargs)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except ProdserverError as exc:
            raise CommandError(str(exc)) from exc

    def _handle(self, options: dict[str, Any]) -> None:
        names: list[str] = options["names"]
        overrides: list[str] = options.get("overrides", [])
        if options["ready"] and not options["healthcheck"]:
            raise CommandError("--ready goes with --healthcheck: 'prodserver --healthcheck --ready NAME'.")
        if options["output"] and not options["export"]:
            raise CommandError("--output goes with --export: 'prodserver --export FORMAT --output DIR'.")
        if options["export"]:
            from django_prodserver.export.run import export

            # 'server --export' / 'worker --export': the processes of that kind (prodserver: all).
            kind_names = [] if self.process_kind is None else kinds.names_of(self.process_kind)
            return export(
                options["export"],
                names or kind_names,
                overrides,
                options["output"],
                check=options["check"],
                write=self.stdout.write,
            )
        if options["list"]:
            return self._list()
        if options["check"]:
            return self._check(names, overrides)
        if options["healthcheck"]:
            return self._healthcheck(names, overrides, ready=options["ready"])
        if options["all"]:
            names = kinds.names_of(self.process_kind)
        if not names:
            names = kinds.first(self.process_kind)
        if len(names) > 1:
            return self._supervise(names, overrides, options)
        process = get_process(names[0])
        backend = load_backend(process, overrides)
        if options["dry_run"]:
            return self._dry_run(backend)
        from django_prodserver.startup import start

        start(backend, self.stderr)

    def _healthcheck(self, names: list[str], overrides: list[str], *, ready: bool) -> None:
        """Each named process (else every one a running supervisor runs, else the first); 1 if any fails."""
        from django_prodserver import heartbeat
        from django_prodserver.healthcheck import check

        chosen = names or heartbeat.supervised(health_settings.health()) or kinds.first(self.process_kind)[:1]
        failed = []
        for name in chosen:
            try:
                self.stdout.write(check(load_backend(get_process(name), overrides), ready=ready))
            except ProdserverError as exc:
                failed.append(str(exc))
        if failed:
            raise CommandError("\n".join(failed))

    def _list(self) -> None:
        listed = kinds.names_of(self.process_kind)
        for process in all_processes():
            if process.name not in listed:
                continue
            try:
                command = load_backend(process).shell_command()
            except ProdserverError as exc:
                command = f"(error: {exc})"
            backend = names.spellings(process.backend)
            self.stdout.write(f"{self.style.SUCCESS(process.name)}  {backend}\n    {command}")

    def _dry_run(self, backend: BaseProcessBackend) -> None:
        backend.validate()
        if backend.process is not None:
            # On stderr: stdout stays the command and its rows, for scripts that read them.
            self.stderr.write(f"{backend.name}: BACKEND {names.spellings(backend.process.backend)}")
        self.stdout.write(backend.shell_command())
        for option, origin, source in backend.describe():
            self.stdout.write(f"  {option:<40} {source:<12} {origin}")
        serving = backend.resolve().serving
        from django_prodserver import heartbeat, wiring

        if serving and serving.app.startswith(f"{wiring.GATEWAY}:"):
            probes = wiring.describe(wiring.routes(), backend.resolve().program)
            self.stdout.write(f"  {serving.app} serves {serving.project_app}; {probes}")
        if backend.records_heartbeat:
            self.stdout.write(f"  {heartbeat.describe(backend.name, health_settings.health())}")

    def _check(self, names: list[str], overrides: list[str]) -> None:
        """Just prodserver's system checks (deploy ones too), then each process' command."""
        from django_prodserver.checks import TAG

        names = names or kinds.names_of(self.process_kind)
        with only_processes(names):
            self.check(tags=[TAG], include_deployment_checks=True, display_num_errors=True)
        for name in names:
            backend = load_backend(get_process(name), overrides)
            backend.validate()
            self.stdout.write(f"{name}: {backend.shell_command()}")

    def _supervise(self, names: list[str], overrides: list[str], options: dict[str, Any]) -> None:
        from django_prodserver.supervisor import plan, supervise
        from django_prodserver.supervisor.process import child_argv

        if options["dry_run"]:
            for process in plan(names, overrides):
                self.stdout.write(f"{process.name}: {shlex.join(child_argv(process.name, options))}")
                self.stdout.write(f"    {load_backend(process).shell_command()}")
            return
        self.stdout.flush()
        collector.resume()  # the supervisor runs as long as its children: collect as usual
        code = supervise(names, overrides, options)
        if code:
            raise SystemExit(code)

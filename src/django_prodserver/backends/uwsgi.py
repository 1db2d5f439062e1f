"""uWSGI (WSGI): a C program, so we exec its binary; its options come from the binary itself.

uWSGI has no parser to import. ``uwsgi --help`` lists every option (core and built-in
plugins) and ``uwsgi ARGV... --version`` runs getopt over ARGV and exits without starting:
that is the validation. Whether an option takes a value is asked of getopt too, one option
at a time and only for the options a process names (see :class:`UWSGIOptionSchema`).

uWSGI's defaults suit a shared host from 2010 more than a container: SIGTERM reloads it
instead of stopping it, and an app that fails to import leaves it serving 500s. The backend
always passes ``--master``, ``--need-app``, ``--die-on-term`` and maps SIGTERM to a graceful
stop (``gracefully_kill_them_all``), so in-flight requests finish and the process exits 0.
Platforms that signal every process reach the workers and the router too: there SIGTERM
becomes the worker's graceful stop, and nothing in the router, which the master stops last.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from django_prodserver import platform
from django_prodserver.args import Setting, as_list, is_unset
from django_prodserver.backends._addresses import tcp_address
from django_prodserver.backends._exec import replace_process
from django_prodserver.backends._parsers import ParserRejected
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.errors import OptionError, not_installed
from django_prodserver.resolved import Resolved
from django_prodserver.schemas import Lookup, Option, OptionSchema, normalize_key

#: SIGTERM (15) → finish in-flight requests, then exit (uWSGI 2.0 "brutally" stops by default).
GRACEFUL_SIGTERM = "unix_signal:15 gracefully_kill_them_all"
#: In each worker, SIGTERM → finish the request, then exit: what the master's graceful stop
#: asks of it (SIGHUP). A worker's own SIGTERM handler exits at once, cutting its request.
WORKER_GRACEFUL_SIGTERM = "unix_signal:15 gracefully_kill"
#: In a gateway (``--http``'s router), SIGTERM does nothing: its own handler exits at once,
#: cutting the requests it is relaying, while the master stops it (SIGKILL) once the workers
#: are done. uWSGI has no "ignore" hook; ``uwsgi_opt_noop`` is its own do-nothing function.
GATEWAY_IGNORES_SIGTERM = "unix_signal:15 uwsgi_opt_noop"
#: Our hooks, by option dest, always passed: platforms that signal every process (Heroku's
#: dynos, systemd's default KillMode) reach the workers and the router too, not only the
#: master. A project's own hooks of the same kind run after them.
OUR_HOOKS = {
    "hook_master_start": GRACEFUL_SIGTERM,
    "hook_accepting": WORKER_GRACEFUL_SIGTERM,
    "hook_as_gateway": GATEWAY_IGNORES_SIGTERM,
}
#: Options that load the application; with any of them in ARGS we add no ``--module``.
APP_OPTIONS = frozenset({"module", "wsgi_file", "mount"})
#: Options that open a listening socket; any of them replaces the default address.
LISTEN_OPTIONS = frozenset(
    {
        "socket",
        "uwsgi_socket",
        "http_socket",
        "http11_socket",
        "https_socket",
        "http",
        "https",
        "shared_socket",
    }
)
_PROBE_MARK = "prodserver-getopt-probe"
_HELP_LINE = re.compile(r"^\s+(?:-(\S)\|)?--(\S+)\s+(.*)$")
#: uWSGI ends some errors with where in its C source they were raised.
_SOURCE_LOCATION = re.compile(r"\s*\[[\w/.]+ line \d+\]$")


def uwsgi_binary() -> str | None:
    """The ``uwsgi`` installed with this Python: next to ``sys.executable``, else on PATH.

    ``sys.executable`` is not resolved: a venv's ``python`` links to the base interpreter,
    whose directory has no ``uwsgi``; and the venv's ``bin`` is often not on PATH.
    """
    for directory in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        candidate = os.path.join(directory, "uwsgi")
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("uwsgi")


def _run_uwsgi(binary: str, argv: Sequence[str], cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    # Our environment's UWSGI_* options would be applied too; uwsgi must see only argv.
    env = {k: v for k, v in os.environ.items() if not k.startswith("UWSGI_")}
    return subprocess.run(
        ["uwsgi", *argv],
        executable=binary,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def getopt_kind(binary: str, name: str) -> Literal["flag", "optional", "required"]:
    """How getopt treats ``--name``: no value, an optional ``=value``, or a required value.

    ``--name=… --version``: getopt refuses a value for a flag (uWSGI then prints
    "getopt_long() error") and otherwise exits at ``--version`` without starting. For the
    rest, ``--name --print=MARK --version`` prints MARK on its own line only when ``--name``
    did not take ``--print=MARK`` as its value.
    """
    # Options that act while they are parsed run with the probe's value (--build-plugin
    # writes into the working directory): let them act in an empty directory of their own.
    with tempfile.TemporaryDirectory(prefix="prodserver-uwsgi-probe-") as scratch:
        first = _run_uwsgi(binary, [f"--{name}=/nonexistent/{_PROBE_MARK}", "--version"], cwd=scratch)
        if "getopt_long() error" in first.stdout + first.stderr:
            return "flag"
        second = _run_uwsgi(binary, [f"--{name}", f"--print={_PROBE_MARK}", "--version"], cwd=scratch)
    printed = (second.stdout + second.stderr).splitlines()
    return "optional" if _PROBE_MARK in printed else "required"


def help_groups(help_text: str) -> list[list[str]]:
    """Option names from ``uwsgi --help``, spellings of one option grouped together.

    uWSGI declares the spellings of one option next to each other with the same help text
    (``--processes``/``--workers``, ``--module``/``--wsgi``).
    """
    groups: list[list[str]] = []
    last_help: str | None = None
    for line in help_text.splitlines():
        match = _HELP_LINE.match(line)
        if not match:
            continue
        name, text = match.group(2), match.group(3).strip()
        if name in ("help", "usage", "version"):
            last_help = None
            continue
        if groups and text == last_help:
            groups[-1].append(name)
        else:
            groups.append([name])
        last_help = text
    return groups


class UWSGIOptionSchema(OptionSchema):
    """uWSGI's options, each asked of getopt the first time a process names it.

    ``uwsgi --help`` gives the ~940 names but not which take a value; asking getopt costs
    one or two runs of the binary per option (~10 ms each), so only the options a process
    uses are asked. Iterating the schema asks about all of them (a few seconds).
    """

    def __init__(self, binary: str, groups: list[list[str]], helps: Mapping[str, str]) -> None:
        super().__init__("uwsgi", [])
        self.binary = binary
        self._groups = {normalize_key(name): group for group in groups for name in group}
        self._helps = dict(helps)
        self._order = [group[0] for group in groups]

    @classmethod
    def from_binary(cls, binary: str) -> UWSGIOptionSchema:
        text = _run_uwsgi(binary, ["--help"]).stdout
        helps = {m.group(2): m.group(3).strip() for m in map(_HELP_LINE.match, text.splitlines()) if m}
        return cls(binary, help_groups(text), helps)

    def _materialize(self, group: list[str]) -> Option:
        found = self._index.get(normalize_key(group[0]))
        if found is not None:
            return found.option
        kind = getopt_kind(self.binary, group[0])
        option = Option(
            dest=group[0].replace("-", "_"),
            flag=f"--{group[0]}",
            takes_value=kind != "flag",
            # Most valued uWSGI options may be given more than once (sockets, env, hooks…).
            repeatable=kind != "flag",
            aliases=tuple(normalize_key(n) for n in group[1:]),
            help=self._helps.get(group[0], ""),
            value_optional=kind == "optional",
        )
        self.options.append(option)
        for name in group:
            self._index[normalize_key(name)] = Lookup(option, False)
        return option

    def lookup(self, key: str) -> Lookup | None:
        group = self._groups.get(normalize_key(key))
        if group is None:
            return None
        self._materialize(group)
        return self._index.get(normalize_key(key))

    def names(self) -> list[str]:
        return sorted(self._groups)

    def __iter__(self) -> Iterator[Option]:
        groups = [self._groups[normalize_key(name)] for name in self._order]
        with ThreadPoolExecutor(4) as pool:
            return iter(list(pool.map(self._materialize, groups)))


class UWSGIServer(WebServerBackend):
    program = "uwsgi"
    module = "uwsgi"
    extra = "uwsgi"
    interface = "wsgi"
    # Preforked blocking workers, like gunicorn's sync workers.
    worker_kind = "sync"
    workers_option = "processes"
    tls_option = "https-socket"
    option_groups = (LISTEN_OPTIONS,)
    detaching_options = frozenset({"daemonize", "daemonize2"})
    detaching_short_flags = frozenset({"-d"})

    #: The mercy gracefully_kill_them_all (our SIGTERM) gives each worker.
    graceful_option = "worker-reload-mercy"

    def binary(self) -> str:
        binary = uwsgi_binary()
        if binary is None:
            raise not_installed(self.name, type(self).__name__, "uwsgi", self.extra)
        return binary

    def ensure_installed(self) -> None:
        self.binary()

    def load_schema(self) -> OptionSchema:
        return UWSGIOptionSchema.from_binary(self.binary())

    def fixed_options(self) -> Mapping[str, Any]:
        fixed: dict[str, Any] = {
            "master": True,
            # Without it a broken import leaves uWSGI running in "full dynamic mode", answering
            # every request with 500; with it uWSGI exits (status 22) and says why.
            "need-app": True,
            # SIGTERM would otherwise reload uWSGI instead of stopping it.
            "die-on-term": True,
            **{dest.replace("_", "-"): hook for dest, hook in OUR_HOOKS.items()},
        }
        user = {s.option.dest for layer in self.user_settings for s in layer}
        if self._raw_args() is None and not APP_OPTIONS & user:
            fixed["module"] = self.app_target()
        return fixed

    def adapt(self, key: str, value: Any) -> tuple[str, Any]:
        # A project's own hooks of these kinds (OUR_HOOKS) come after ours instead of replacing them.
        ours = OUR_HOOKS.get(self.schema_dest(key))
        if ours is not None and not is_unset(value):
            return key, [ours, *(v for v in as_list(value) if v != ours)]
        return key, value

    def positional(self) -> list[str]:
        return []  # the app is the --module option

    def listen_on_port(self, port: str) -> Mapping[str, Any]:
        # Workers speak HTTP themselves: the platform's router is the proxy in front.
        return {"http-socket": f"0.0.0.0:{port}"}

    def production_defaults(self) -> Mapping[str, Any]:
        return {
            "http-socket": "127.0.0.1:8000",
            # uWSGI runs no Python threads the app starts (Sentry's, a metrics exporter's)
            # unless told to.
            "enable-threads": True,
            "single-interpreter": True,
            # Remove the sockets and pid files uWSGI created when it exits.
            "vacuum": True,
            # uWSGI's 4 KB request-header buffer rejects requests with large cookies.
            "buffer-size": 32768,
            # Give in-flight requests 25 s after SIGTERM, within Kubernetes' default 30 s
            # grace period (uWSGI's own is 60 s).
            "worker-reload-mercy": platform.GRACEFUL_SECONDS,
        }

    def tls(self, options: Mapping[str, Setting]) -> bool:
        return any(
            setting is not None and not is_unset(setting.value)
            for setting in (options.get("https_socket"), options.get("https"))
        )

    def listen_addresses(self, settings: Mapping[str, Setting]) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        for dest in sorted(LISTEN_OPTIONS):
            setting = settings.get(dest)
            if setting is None:
                continue
            for value in as_list(setting.value):
                # https-socket: "address,cert,key"; uWSGI's ":8000" listens on every interface.
                bind = str(value).split(",", 1)[0]
                address = tcp_address(bind, default_host="0.0.0.0", default_port=None)
                found += [address] if address else []
        return found

    def validate_resolved(self, resolved: Resolved) -> None:
        super().validate_resolved(resolved)
        # getopt does not look at values: uWSGI reads "abc" or "0" processes as none and
        # starts a master without workers that never answers.
        for setting in resolved.options.values():
            option = setting.option
            if option.takes_value and not option.value_optional and isinstance(setting.value, bool):
                raise OptionError(
                    f"Process {self.name!r}: {setting.origin} = {setting.value!r}: '{option.flag}' "
                    f"takes a value, not on/off (uwsgi would read {str(setting.value)!r} as its "
                    "value); see 'uwsgi --help'."
                )
            if option.dest in ("processes", "threads") and not is_unset(setting.value):
                text = str(setting.value).strip()
                if not (text.isdigit() and int(text) >= 1):
                    raise OptionError(
                        f"Process {self.name!r}: {setting.origin} = {setting.value!r} is not a "
                        f"number of {setting.option.dest}; uwsgi would start without any. Use a "
                        "whole number of at least 1."
                    )

    def parse(self, argv: list[str]) -> None:
        result = _run_uwsgi(self.binary(), [*argv, "--version"])
        if result.returncode != 0:
            lines = [
                _SOURCE_LOCATION.sub("", line.removeprefix("uwsgi: "))
                for line in (result.stderr + result.stdout).strip().splitlines()
                if line.strip() and line.strip() != "getopt_long() error"
            ]
            raise ParserRejected(lines[-1] if lines else f"uwsgi exited with status {result.returncode}")

    def run(self, argv: list[str]) -> int:
        # A C program with an embedded Python: nothing of this process could be shared.
        replace_process(self.binary(), ["uwsgi", *argv])

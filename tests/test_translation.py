"""ARGS (and command-line overrides) → argv, through the real schemas of the installed programs.

No mocks: every backend reads its program's own parser, so these tests also catch a program
release that renames or reshapes an option. They run against the lowest supported versions
too (``scripts/test-lowest``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from django_prodserver.args import resolve_key
from django_prodserver.backends.program import ProgramBackend
from django_prodserver.conf import parse_process
from django_prodserver.errors import OptionError
from django_prodserver.loading import load_backend
from django_prodserver.schemas import Option, OptionSchema
from harness import run_manage

# lowest: also run by scripts/test-lowest
pytestmark = [pytest.mark.lowest, pytest.mark.usefixtures("no_platform_variables")]

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
UVICORN_WSGI = "django_prodserver.backends.uvicorn.UvicornWSGIServer"
GRANIAN_ASGI = "django_prodserver.backends.granian.GranianASGIServer"
GRANIAN_WSGI = "django_prodserver.backends.granian.GranianWSGIServer"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"

#: What every web server is handed: the gateway that answers the probes ahead of the project.
WSGI_APP = "django_prodserver.gateway:wsgi"
ASGI_APP = "django_prodserver.gateway:asgi"


def backend(path: str, args: Any = None, overrides: Sequence[str] = (), **entry: Any) -> ProgramBackend:
    process = parse_process("web", {"BACKEND": path, "ARGS": args, **entry})
    loaded = load_backend(process, overrides)
    assert isinstance(loaded, ProgramBackend)
    return loaded


def chosen(path: str, args: Any, overrides: Sequence[str] = ()) -> list[str]:
    """The argv fragments that come from ARGS and the command line, in order."""
    settings = backend(path, args, overrides).resolve().options.values()
    return [arg for s in settings if s.source in ("ARGS", "command line") for arg in s.argv()]


def error(path: str, args: Any, overrides: Sequence[str] = ()) -> str:
    with pytest.raises(OptionError) as info:
        backend(path, args, overrides).prep_server_args()
    return str(info.value)


DETACHING = (
    "is refused: it makes gunicorn detach into the background, beyond the reach of prodserver's "
    "supervisor and of every later stop signal; remove it (the supervisor, systemd or the platform "
    "keeps the process running)."
)


@pytest.mark.parametrize(
    ("args", "overrides", "where"),
    [
        ({"daemon": True}, (), "ARGS key 'daemon'"),
        ({"DAEMON": "false"}, (), "ARGS key 'DAEMON'"),
        (None, ("--daemon",), "command-line option '--daemon'"),
        ("--workers=2 --daemon", (), "ARGS option '--daemon'"),
    ],
)
def test_options_that_daemonize_are_refused_with_the_reason(
    args: Any, overrides: Sequence[str], where: str
) -> None:
    assert error(GUNICORN, args, overrides) == f"Process 'web': {where} {DETACHING}"


@pytest.mark.parametrize(
    ("args", "cmd_args", "where"),
    [("--workers=2 -D", "", "ARGS option '-D'"), (None, "--daemon", "GUNICORN_CMD_ARGS option 'daemon'")],
)
def test_daemonizing_where_no_key_names_it_is_refused_too(
    args: Any, cmd_args: str, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUNICORN_CMD_ARGS", cmd_args)
    with pytest.raises(OptionError) as info:
        backend(GUNICORN, args).validate()
    assert str(info.value) == f"Process 'web': {where} {DETACHING}"


# ----- valued options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "args", "expected"),
    [
        (GUNICORN, {"workers": "4", "timeout": 30}, ["--workers=4", "--timeout=30"]),
        (UVICORN, {"host": "127.0.0.1", "port": 8001}, ["--host=127.0.0.1", "--port=8001"]),
        (UVICORN, {"forwarded-allow-ips": "*"}, ["--forwarded-allow-ips=*"]),
        (WAITRESS, {"threads": 8, "channel-timeout": "30"}, ["--threads=8", "--channel-timeout=30"]),
        (GRANIAN_WSGI, {"port": "8002", "backlog": 256}, ["--port=8002", "--backlog=256"]),
    ],
)
def test_a_value_becomes_key_equals_value(path: str, args: Mapping[str, Any], expected: list[str]) -> None:
    assert chosen(path, args) == expected


def test_a_value_with_spaces_stays_one_argument() -> None:
    assert chosen(GUNICORN, {"access-logformat": '%(h)s "%(r)s" %(s)s'}) == [
        '--access-logformat=%(h)s "%(r)s" %(s)s'
    ]


# ----- on/off options ------------------------------------------------------------------------

TRUTHY = [True, "True", "true", "1", 1, "yes", None]
FALSY = [False, "False", "false", "0", 0, "no"]


@pytest.mark.parametrize("value", TRUTHY)
def test_a_true_value_gives_the_bare_flag(value: Any) -> None:
    assert chosen(GUNICORN, {"preload": value}) == ["--preload"]


@pytest.mark.parametrize("value", FALSY)
def test_a_false_value_leaves_out_a_flag_that_has_no_negative(value: Any) -> None:
    assert chosen(GUNICORN, {"preload": value}) == []


@pytest.mark.parametrize("value", FALSY)
def test_a_false_value_gives_the_negative_flag_where_one_exists(value: Any) -> None:
    assert chosen(UVICORN, {"access-log": value}) == ["--no-access-log"]
    assert chosen(WAITRESS, {"ipv6": value}) == ["--no-ipv6"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"no-access-log": "True"}, ["--no-access-log"]),
        ({"no-access-log": False}, ["--access-log"]),
        ({"proxy-headers": "True"}, ["--proxy-headers"]),
        ({"proxy-headers": "False"}, ["--no-proxy-headers"]),
        ({"no_proxy_headers": True}, ["--no-proxy-headers"]),
    ],
)
def test_the_negative_spelling_is_a_key_too(args: Mapping[str, Any], expected: list[str]) -> None:
    assert chosen(UVICORN, args) == expected


def test_a_boolean_valued_option_keeps_its_value() -> None:
    # uvicorn's --ws-per-message-deflate takes a BOOLEAN value instead of being a flag.
    assert chosen(UVICORN, {"ws-per-message-deflate": False}) == ["--ws-per-message-deflate=False"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"sendfile": False}, ["--no-sendfile"]),
        ({"sendfile": "false"}, ["--no-sendfile"]),
        ({"sendfile": True}, []),
        ({"no-sendfile": True}, ["--no-sendfile"]),
        ({"no-sendfile": False}, []),
    ],
)
def test_gunicorns_off_only_sendfile_flag(args: Mapping[str, Any], expected: list[str]) -> None:
    assert chosen(GUNICORN, args) == expected


def test_a_flag_rejects_a_value_that_is_not_on_or_off() -> None:
    assert error(GUNICORN, {"preload": "maybe"}) == (
        "Process 'web': ARGS['preload'] = 'maybe': "
        "'--preload' is an on/off flag; use True or False, not 'maybe'."
    )


# ----- None: the program's default -----------------------------------------------------------


@pytest.mark.parametrize("value", [None, "None"])
def test_none_on_a_valued_option_means_the_programs_default(value: Any) -> None:
    assert chosen(GUNICORN, {"timeout": value}) == []
    assert chosen(UVICORN, {"limit-concurrency": value}) == []


def test_none_replaces_a_production_default_with_the_programs_own() -> None:
    argv = backend(GUNICORN, {"keep-alive": None}).prep_server_args()
    assert not [arg for arg in argv if arg.startswith("--keep-alive")], argv


# ----- lists: repeatable options -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "args", "expected"),
    [
        (
            GUNICORN,
            {"bind": ["127.0.0.1:8001", "unix:/tmp/web.sock"]},
            ["--bind=127.0.0.1:8001", "--bind=unix:/tmp/web.sock"],
        ),
        (GUNICORN, {"bind": ("127.0.0.1:8001",)}, ["--bind=127.0.0.1:8001"]),
        (UVICORN, {"header": ["X-A: 1", "X-B: 2"]}, ["--header=X-A: 1", "--header=X-B: 2"]),
        (
            WAITRESS,
            {"listen": ["127.0.0.1:8001", "127.0.0.1:8002"]},
            ["--listen=127.0.0.1:8001", "--listen=127.0.0.1:8002"],
        ),
    ],
)
def test_a_list_repeats_a_repeatable_option(path: str, args: Mapping[str, Any], expected: list[str]) -> None:
    assert chosen(path, args) == expected


def test_a_single_value_on_a_repeatable_option_is_one_occurrence() -> None:
    assert chosen(GUNICORN, {"bind": "127.0.0.1:8001"}) == ["--bind=127.0.0.1:8001"]


@pytest.mark.parametrize(
    ("path", "args", "message"),
    [
        (
            GUNICORN,
            {"workers": [2, 4]},
            "Process 'web': ARGS['workers'] = [2, 4]: '--workers' takes one value, not a list.",
        ),
        (
            UVICORN,
            {"forwarded-allow-ips": ["10.0.0.1", "10.0.0.2"]},
            "Process 'web': ARGS['forwarded-allow-ips'] = ['10.0.0.1', '10.0.0.2']: "
            "'--forwarded-allow-ips' takes one value, not a list.",
        ),
    ],
)
def test_a_list_on_a_single_valued_option_is_an_error(
    path: str, args: Mapping[str, Any], message: str
) -> None:
    assert error(path, args) == message


# ----- ARGS as a string or list: raw argv ----------------------------------------------------


def test_raw_string_args_pass_through_with_only_the_app_target_added() -> None:
    argv = backend(GUNICORN, "--workers 3 --preload --bind '127.0.0.1:8001'").prep_server_args()
    assert argv == ["--workers", "3", "--preload", "--bind", "127.0.0.1:8001", WSGI_APP]


def test_raw_list_args_keep_the_backends_interface_option() -> None:
    assert backend(UVICORN, ["--workers", "2", "--no-access-log"]).prep_server_args() == [
        "--interface=asgi3",
        "--workers",
        "2",
        "--no-access-log",
        ASGI_APP,
    ]
    assert backend(GRANIAN_WSGI, ["--workers", "2"]).prep_server_args() == [
        "--interface=wsgi",
        "--workers",
        "2",
        WSGI_APP,
    ]


def test_raw_args_get_no_defaults_and_no_platform_options(monkeypatch: pytest.MonkeyPatch) -> None:
    # Raw ARGS are the user's complete argv: WEB_CONCURRENCY/PORT and production defaults stay out.
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("PORT", "9000")
    assert backend(GUNICORN, "--timeout 30").prep_server_args() == ["--timeout", "30", WSGI_APP]


def test_raw_args_are_not_interpreted() -> None:
    # Not even keys prodserver would reject: the program's parser is the judge.
    assert backend(WAITRESS, ["--expose"]).prep_server_args() == ["--expose", WSGI_APP]


def test_command_line_overrides_follow_raw_args_so_the_program_takes_the_last() -> None:
    argv = backend(GUNICORN, "--workers 3", ["--workers=8"]).prep_server_args()
    assert argv == ["--workers", "3", "--workers=8", WSGI_APP]


def test_app_sets_the_target_after_raw_args() -> None:
    loaded = backend(GUNICORN, ["--preload"], APP="testproject.wsgi.application")
    assert loaded.prep_server_args() == ["--preload", WSGI_APP]
    serving = loaded.resolve().serving
    assert serving is not None
    assert serving.project_app == "testproject.wsgi:application"


# ----- key spellings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["max-requests", "max_requests", "--max-requests", "MAX_REQUESTS", " max-requests "]
)
def test_underscores_dashes_case_and_leading_dashes_name_the_same_option(key: str) -> None:
    assert chosen(GUNICORN, {key: 100}) == ["--max-requests=100"]


@pytest.mark.parametrize(
    ("path", "key", "spelling"),
    [
        (GUNICORN, "keep", "keep"),  # argparse would take it as --keep-alive
        (GUNICORN, "pre", "pre"),  # ... and this as --preload
        (GUNICORN, "access-log", "access-log"),  # ... and this as --access-logfile
        (WAITRESS, "expose", "expose"),  # getopt would take it as --expose-tracebacks
        (GUNICORN, "w", "w"),  # short options are not keys either
    ],
)
def test_prefix_abbreviations_and_short_options_are_not_keys(path: str, key: str, spelling: str) -> None:
    message = error(path, {key: "1"})
    program = "gunicorn" if path == GUNICORN else "waitress-serve"
    assert message.startswith(f"Process 'web': ARGS key {spelling!r} is not a {program} option; "), message


def test_an_abbreviation_on_the_command_line_is_rejected_too() -> None:
    assert error(GUNICORN, {}, ["--keep=7"]) == (
        "Process 'web': command-line option '--keep=7' is not a gunicorn option; "
        "see 'gunicorn --help' for its options."
    )


def test_an_unknown_key_suggests_the_closest_option() -> None:
    assert error(GUNICORN, {"work": 3}) == (
        "Process 'web': ARGS key 'work' is not a gunicorn option; did you mean 'workers'?"
    )


# ----- documented aliases --------------------------------------------------------------------


def test_granian_spec_names_map_onto_real_options(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    args = {
        "address": "127.0.0.1",
        "log-access": "False",
        "ssl-cert": str(cert),
        "ssl-key": str(key),
    }
    # Sorted: an option keeps the place of the production default it replaces.
    assert sorted(chosen(GRANIAN_ASGI, args)) == [
        "--host=127.0.0.1",
        "--no-access-log",
        f"--ssl-certificate={cert}",
        f"--ssl-keyfile={key}",
    ]
    assert chosen(GRANIAN_WSGI, {"log-access": True}) == ["--access-log"]


def test_granian_threads() -> None:
    assert chosen(GRANIAN_WSGI, {"threads": 4}) == ["--blocking-threads=4"]
    assert chosen(GRANIAN_ASGI, {"threads": 4}) == ["--runtime-threads=4"]


def test_a_real_option_wins_over_an_alias_of_the_same_name() -> None:
    # granian 1.x had a --threads of its own; a release that brings such a name back keeps
    # the program's meaning instead of the spec's mapping.
    schema = OptionSchema(
        "granian",
        [Option("threads", "--threads", True), Option("runtime_threads", "--runtime-threads", True)],
    )
    aliases = {"threads": "runtime-threads", "address": "host"}
    found = resolve_key(schema, aliases, "threads")
    assert found is not None
    assert found.option.flag == "--threads"
    assert resolve_key(schema, aliases, "address") is None  # the alias' target is missing too


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # More than one blocking thread is a start-up error on ASGI; the spec's intent is more
        # threads per worker, which granian calls runtime threads.
        ("2", ["--runtime-threads=2"]),
        (4, ["--runtime-threads=4"]),
        ("1", ["--blocking-threads=1"]),
        (None, []),
    ],
)
def test_granian_asgi_blocking_threads_above_one_are_runtime_threads(value: Any, expected: list[str]) -> None:
    assert chosen(GRANIAN_ASGI, {"blocking-threads": value}) == expected


def test_granian_wsgi_blocking_threads_stay_blocking_threads() -> None:
    assert chosen(GRANIAN_WSGI, {"blocking-threads": "4"}) == ["--blocking-threads=4"]


def test_an_alias_that_is_not_an_option_of_another_program_stays_unknown() -> None:
    assert error(UVICORN, {"address": "127.0.0.1"}).startswith(
        "Process 'web': ARGS key 'address' is not a uvicorn option; "
    )


# ----- command-line overrides ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["--workers=8"], ["--workers=8", "--log-level=info"]),
        (["--workers", "8"], ["--workers=8", "--log-level=info"]),
        (["--log-level", "debug"], ["--workers=4", "--log-level=debug"]),
        (["--log_level=debug"], ["--workers=4", "--log-level=debug"]),
        (["--preload", "--workers", "3"], ["--workers=3", "--log-level=info", "--preload"]),
        (["--workers", "3", "--preload"], ["--workers=3", "--log-level=info", "--preload"]),
        (["--workers=2", "--workers=6"], ["--workers=6", "--log-level=info"]),
    ],
)
def test_an_override_replaces_the_same_option_from_args(overrides: list[str], expected: list[str]) -> None:
    assert chosen(GUNICORN, {"workers": 4, "log-level": "info"}, overrides) == expected


def test_a_bare_flag_does_not_swallow_the_next_token() -> None:
    assert error(GUNICORN, {}, ["--preload", "mysite.wsgi"]) == (
        "Process 'web': command line: expected an option such as --workers=8, got 'mysite.wsgi'."
    )


def test_an_override_turns_a_flag_off() -> None:
    assert chosen(UVICORN, {"access-log": True}, ["--no-access-log"]) == ["--no-access-log"]
    assert chosen(UVICORN, {"no-access-log": True}, ["--access-log"]) == ["--access-log"]


def test_an_override_of_a_repeatable_option_replaces_the_whole_list() -> None:
    args = {"bind": ["127.0.0.1:8001", "127.0.0.1:8002"]}
    assert chosen(GUNICORN, args, ["--bind=127.0.0.1:9001"]) == ["--bind=127.0.0.1:9001"]
    assert chosen(GUNICORN, args, ["--bind=127.0.0.1:9001", "--bind", "127.0.0.1:9002"]) == [
        "--bind=127.0.0.1:9001",
        "--bind=127.0.0.1:9002",
    ]


def test_an_override_uses_the_alias_table() -> None:
    assert chosen(GRANIAN_ASGI, {"address": "127.0.0.1"}, ["--address=0.0.0.0"]) == ["--host=0.0.0.0"]


def test_an_override_replaces_a_value_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = backend(GUNICORN, {}, ["--workers=7"]).resolve().options.values()
    assert [(s.argv(), s.source) for s in settings if s.option.dest == "workers"] == [
        (["--workers=7"], "command line")
    ]


@pytest.mark.parametrize(
    "extra",
    [
        ["--workers=8"],
        ["--", "--workers=8"],
        ["--workers", "8"],
        ["--preload", "--workers", "8"],
    ],
)
def test_the_command_passes_overrides_to_the_backend(extra: list[str]) -> None:
    processes = {"web": {"BACKEND": GUNICORN, "ARGS": {"workers": 4, "timeout": 30}}}
    result = run_manage("prodserver", "web", "--dry-run", *extra, processes=processes)
    assert result.returncode == 0, result.stderr
    command = result.stdout.splitlines()[0].split()
    assert command.count("--workers=8") == 1, command
    assert "--workers=4" not in command, command
    assert "--timeout=30" in command, command
    assert ("--preload" in command) == ("--preload" in extra), command


def test_the_command_passes_a_space_separated_value() -> None:
    processes = {"web": {"BACKEND": GUNICORN, "ARGS": {"log-level": "info"}}}
    result = run_manage("prodserver", "web", "--dry-run", "--log-level", "debug", processes=processes)
    assert result.returncode == 0, result.stderr
    command = result.stdout.splitlines()[0].split()
    assert "--log-level=debug" in command, command
    assert "--log-level=info" not in command, command


def test_an_option_django_also_has_reaches_the_program_after_a_double_dash() -> None:
    # --pythonpath is both gunicorn's and Django's; before "--" Django takes it.
    processes = {"web": {"BACKEND": GUNICORN}}
    result = run_manage("prodserver", "web", "--dry-run", "--", "--pythonpath=/srv/app", processes=processes)
    assert result.returncode == 0, result.stderr
    assert "--pythonpath=/srv/app" in result.stdout.splitlines()[0].split()


@pytest.mark.parametrize("reuse", [True, False])
def test_reuse_port_keeps_the_address_and_only_skips_the_port_in_use_check(reuse: bool) -> None:
    loaded = load_backend(
        parse_process("web", {"BACKEND": GUNICORN, "ARGS": {"bind": "127.0.0.1:8123", "reuse-port": reuse}})
    )
    serving = loaded.resolve().serving
    assert serving is not None
    assert serving.listen == (("127.0.0.1", 8123),)  # for --healthcheck, W001 and the exports
    assert loaded.shares_port() is reuse  # type: ignore[attr-defined]

"""Every way ``manage.py prodserver`` can be misconfigured, and the whole message it prints.

A message is one or two lines that name the process and the setting and say how to fix it.
The tables run the command in this process (``call_command``, checks on, as ``manage.py``
runs it) and assert the whole ``CommandError`` message. What only a process shows, the exit
status and stderr without a traceback (``--traceback`` brings one back), is asserted by one
real ``manage.py prodserver`` subprocess per kind of error, and by the cases that need a
process anyway: a program missing from the path, a port taken at start. A backend module that
is broken itself is one line too, naming the file and line that raised.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from django.core.management import ManagementUtility

from harness import TESTS_DIR, free_port, run_manage
from in_process import UNSET, command_error, configured

pytestmark = [pytest.mark.lowest, pytest.mark.usefixtures("django_project", "no_platform_variables")]

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
GRANIAN_ASGI = "django_prodserver.backends.granian.GranianASGIServer"
GRANIAN_WSGI = "django_prodserver.backends.granian.GranianWSGIServer"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"

EXAMPLE_BACKEND = "'django_prodserver.backends.gunicorn.GunicornServer'"


def fails(*args: str, **env: Any) -> subprocess.CompletedProcess[str]:
    """The real ``manage.py prodserver ARGS`` in a subprocess, which must fail."""
    # Short timeout: every case fails before a server would start.
    result = run_manage("prodserver", *args, timeout=30, **env)
    assert result.returncode != 0, f"exit 0\n{result.stdout}\n{result.stderr}"
    return result


def assert_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.stderr == f"CommandError: {message}\n"
    assert result.returncode == 1


#: PRODUCTION_PROCESSES deleted from the settings (the test settings drop it when the JSON is null).
MISSING = UNSET


def setting(processes: Any) -> dict[str, Any]:
    """run_manage keyword arguments that give PRODUCTION_PROCESSES this value."""
    if processes is MISSING:
        return {"env": {"PRODSERVER_TEST_PROCESSES": "null"}}
    return {"processes": processes}


def error(*args: str, processes: Any, changes: Mapping[str, Any] | None = None) -> str:
    return command_error(*args, processes=processes, settings=changes)


def web(backend: str = GUNICORN, **entry: Any) -> dict[str, Any]:
    return {"web": {"BACKEND": backend, **entry}}


# ----- the setting itself --------------------------------------------------------------------


def test_unknown_process_name_lists_the_configured_ones() -> None:
    processes = {"web": {"BACKEND": GUNICORN}, "worker": {"BACKEND": GUNICORN}}
    assert (
        error("wbe", processes=processes)
        == "No process named 'wbe' in PRODUCTION_PROCESSES; configured: 'web', 'worker'."
    )


@pytest.mark.parametrize(
    ("processes", "message"),
    [
        (
            MISSING,
            "The PRODUCTION_PROCESSES setting is missing: define it in your settings, e.g. "
            f"PRODUCTION_PROCESSES = {{'web': {{'BACKEND': {EXAMPLE_BACKEND}}}}}.",
        ),
        ({}, "The PRODUCTION_PROCESSES setting is empty: add at least one process, e.g. 'web'."),
        (
            ["web"],
            "The PRODUCTION_PROCESSES setting must be a dict of process name -> config, not list.",
        ),
        (
            "web",
            "The PRODUCTION_PROCESSES setting must be a dict of process name -> config, not str.",
        ),
    ],
    ids=["missing", "empty", "list", "str"],
)
def test_a_missing_or_malformed_setting(processes: Any, message: str) -> None:
    assert error("web", processes=processes) == message
    assert error(processes=processes) == message


def test_a_process_that_is_not_a_dict() -> None:
    assert error("web", processes={"web": GUNICORN}) == (
        "PRODUCTION_PROCESSES['web'] must be a dict with at least 'BACKEND', not str."
    )


def test_a_process_without_backend() -> None:
    assert error("web", processes={"web": {"ARGS": {"workers": 2}}}) == (
        f"PRODUCTION_PROCESSES['web'] has no 'BACKEND': set it to a dotted path such as {EXAMPLE_BACKEND}."
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"BAKEND": GUNICORN}, " has no 'BACKEND' but has 'BAKEND'; did you mean 'BACKEND'?"),
        ({"backend": GUNICORN}, " has no 'BACKEND' but has 'backend'; did you mean 'BACKEND'?"),
        (
            {"BACKEND": None},
            "['BACKEND'] = None is not a dotted path; write one as a string, such as "
            f"{EXAMPLE_BACKEND}, or a short name such as 'gunicorn'.",
        ),
        (
            {"BACKEND": 5},
            "['BACKEND'] = 5 is not a dotted path; write one as a string, such as "
            f"{EXAMPLE_BACKEND}, or a short name such as 'gunicorn'.",
        ),
    ],
    ids=["misspelt", "lower-case", "none", "int"],
)
def test_a_backend_misspelt_or_of_the_wrong_type(entry: dict[str, Any], message: str) -> None:
    assert error("web", processes={"web": entry}) == f"PRODUCTION_PROCESSES['web']{message}"


def test_args_as_a_command_line_with_an_open_quote() -> None:
    assert error("web", processes=web(ARGS='--workers "2')) == (
        "PRODUCTION_PROCESSES['web']['ARGS'] = '--workers \"2' is not a command line: no closing "
        "quotation; close the quote, or give ARGS as a dict."
    )


def test_args_of_the_wrong_type() -> None:
    assert error("web", processes=web(ARGS=8)) == (
        "PRODUCTION_PROCESSES['web']['ARGS'] must be a dict (or a list/string of raw arguments), not int."
    )


# ----- BACKEND -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "problem"),
    [
        (
            "django_prodserver.backends.gunicron.GunicornServer",
            "no module named 'django_prodserver.backends.gunicron'",
        ),
        ("myproject.servers.Server", "no module named 'myproject'"),
        (
            "django_prodserver.backends.gunicorn.GunicornServr",
            "module 'django_prodserver.backends.gunicorn' has no attribute 'GunicornServr'",
        ),
    ],
    ids=["typo-in-module", "missing-package", "missing-class"],
)
def test_a_backend_path_that_does_not_import(backend: str, problem: str) -> None:
    assert error("web", processes=web(backend)) == (
        f"Process 'web': BACKEND {backend!r} cannot be imported ({problem}); "
        f"check the dotted path, e.g. {EXAMPLE_BACKEND}."
    )


def test_a_backend_that_is_not_a_backend_class() -> None:
    backend = "django_prodserver.conf.get_process"
    assert error("web", processes=web(backend)) == (
        f"Process 'web': BACKEND {backend!r} is not a backend class "
        "(a subclass of django_prodserver.backends.base.BaseServerBackend)."
    )


def test_a_backend_module_that_imports_a_missing_package_is_one_line_with_the_traceback_behind() -> None:
    # testproject/broken_backend.py exists but imports a package that does not. On a machine
    # without that package it is one line (E003, a deploy check: 'migrate' keeps working);
    # --traceback shows where the module imports it.
    message = (
        "Process 'web': BACKEND 'testproject.broken_backend.Server' needs the module "
        "'prodserver_test_missing_dependency', which is not installed here; install it "
        "(--traceback shows what imports it)."
    )
    assert_error(fails("web", processes=web("testproject.broken_backend.Server")), message)
    traced = run_manage(
        "prodserver", "web", "--traceback", processes=web("testproject.broken_backend.Server")
    )
    assert traced.returncode == 1
    assert 'testproject/broken_backend.py", line 7, in <module>' in traced.stderr
    assert "ModuleNotFoundError: No module named 'prodserver_test_missing_dependency'" in traced.stderr


def test_a_plugin_backend_that_requires_a_missing_program_keeps_its_own_line() -> None:
    assert error("web", processes=web("testproject.plugin_backend.PluginServer")) == (
        "Process 'web' uses PluginServer, but the plug-in's program is not installed: "
        "pip install 'django-prodserver[plugin]'"
    )


def test_a_backend_module_that_raises_is_one_line_naming_where_with_the_traceback_behind() -> None:
    backend = "testproject.broken_celery.Server"  # the module raises as it is imported
    assert_error(
        fails("web", processes=web(backend)),
        f"Process 'web': importing BACKEND {backend!r} raised RuntimeError: the broker password is not "
        "configured (testproject/broken_celery.py, line 3); fix that module (--traceback shows the whole "
        "traceback).",
    )
    traced = run_manage("prodserver", "web", "--traceback", processes=web(backend))
    assert traced.returncode == 1
    assert 'testproject/broken_celery.py", line 3, in <module>' in traced.stderr


def test_a_backend_without_start_server_is_refused_before_the_start() -> None:
    # It used to pass every check and end the start in a NotImplementedError traceback.
    backend = "testproject.custom_workers.Unfinished"
    assert error("web", processes=web(backend)) == (
        f"Process 'web': BACKEND {backend!r} does not define start_server(*args), which starts its "
        "program; add it to the class."
    )


CELERY_WORKER = "django_prodserver.backends.celery.CeleryWorker"
COMMAND = "django_prodserver.backends.command.ManagementCommand"
#: The lowest web servers' run has no Celery: a Celery worker then fails its check for that.
needs_celery = pytest.mark.skipif(importlib.util.find_spec("celery") is None, reason="no Celery here")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"BACKEND": GUNICORN, "ONESHOT": True},
            "ONESHOT runs a step to completion before the others start, and GunicornServer runs "
            "until it is stopped; remove it, or run the step with the ManagementCommand backend.",
        ),
        (
            {"BACKEND": CELERY_WORKER, "APP": "testproject.celery.app", "ONESHOT": True},
            "ONESHOT runs a step to completion before the others start, and CeleryWorker runs "
            "until it is stopped; remove it, or run the step with the ManagementCommand backend.",
        ),
        (
            {"BACKEND": "testproject.custom_workers.Mailer", "DRAIN": 5},
            "DRAIN applies to web servers (readiness fails while requests are still served); "
            "remove it from this worker.",
        ),
    ],
    ids=["oneshot-web-server", "oneshot-celery-worker", "drain-custom-worker"],
)
def test_a_key_that_cannot_work_for_the_backend_is_refused_by_check(
    entry: dict[str, Any], message: str
) -> None:
    # A ONESHOT web server or worker kept every process after it waiting for good. A custom
    # backend's validate() may do nothing: check() refuses these keys before it.
    from django_prodserver.checks import process_errors

    with configured({"proc": entry}):
        assert [str(e) for e in process_errors(["proc"])] == [f"Process 'proc': {message}"]
    assert error("proc", processes={"proc": entry}) == f"Process 'proc': {message}"


@pytest.mark.parametrize(
    "entry",
    [
        {"BACKEND": COMMAND, "ARGS": ["migrate", "--noinput"], "ONESHOT": True},
        pytest.param(
            {"BACKEND": CELERY_WORKER, "APP": "testproject.celery.app", "SHUTDOWN": "warm"},
            marks=needs_celery,
        ),
        {"BACKEND": GUNICORN, "WARMUP": ["/"]},
        pytest.param(
            {"BACKEND": CELERY_WORKER, "APP": "testproject.celery.app", "WARMUP": ["/"]}, marks=needs_celery
        ),
        # A 2.x backend is a "server" whatever it runs, and may read the entry's keys itself.
        {"BACKEND": "testproject.chatty.Chatty", "ONESHOT": True, "SHUTDOWN": "warm"},
    ],
    ids=["oneshot-command", "shutdown-celery-worker", "warmup-web-server", "warmup-worker", "custom-backend"],
)
def test_the_same_keys_where_they_work_pass_the_checks_without_a_word(entry: dict[str, Any]) -> None:
    from django_prodserver.checks import process_errors
    from django_prodserver.conf import parse_process
    from django_prodserver.loading import load_backend

    with configured({"proc": entry}):
        assert process_errors(["proc"]) == []
        backend = load_backend(parse_process("proc", entry))
        backend.resolve()
        assert backend.unread_keys() == []


@pytest.mark.parametrize(
    ("entry", "shown"),
    [
        ({"BACKEND": GUNICORN, "SHUTDOWN": "warm"}, "GunicornServer"),
        ({"BACKEND": "celery-beat", "APP": "testproject.celery.app", "SHUTDOWN": "warm"}, "CeleryBeat"),
    ],
    ids=["gunicorn", "celery-beat"],
)
def test_shutdown_where_nothing_reads_it_is_a_warning(entry: dict[str, Any], shown: str) -> None:
    # It does nothing there; a warning (W007), as for a misspelt key, so 'migrate' keeps running.
    from django.core import checks as django_checks

    from django_prodserver.checks import TAG

    with configured({"proc": entry}):
        found = [(m.id, m.msg) for m in django_checks.run_checks(tags=[TAG])]
    assert found == [
        (
            "prodserver.W007",
            "Process 'proc': PRODUCTION_PROCESSES['proc']['SHUTDOWN'] applies to Celery workers "
            f"(what SIGTERM does to running tasks); {shown} does not read it.",
        )
    ]


def test_a_management_command_that_starts_processes_with_prodserver_is_refused() -> None:
    # It would start the named processes inside this one, or itself again, for ever.
    processes = {"release": {"BACKEND": COMMAND, "ARGS": ["prodserver", "release"]}}
    assert error("release", processes=processes) == (
        "Process 'release': ManagementCommand cannot start processes with 'prodserver'; give each "
        "process its own entry in PRODUCTION_PROCESSES and run them together with 'prodserver --all'."
    )


def test_a_management_command_may_run_prodserver_check() -> None:
    # A release step that checks the processes starts nothing: allowed.
    from django_prodserver.checks import process_errors

    processes = {"release": {"BACKEND": COMMAND, "ARGS": ["prodserver", "--check"], "ONESHOT": True}}
    with configured(processes):
        assert process_errors(["release"]) == []


# ----- the program ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [GRANIAN_ASGI, GRANIAN_WSGI])
def test_the_program_not_installed(backend: str) -> None:
    # tests/shims/without_granian/ goes first on the path: importing granian fails exactly as
    # it does when the package is absent, while the rest of the environment stays real.
    shim = TESTS_DIR / "shims" / "without_granian"
    pythonpath = os.pathsep.join([str(shim), str(TESTS_DIR)])
    result = fails("web", processes=web(backend), env={"PYTHONPATH": pythonpath})
    assert_error(
        result,
        f"Process 'web' uses {backend.rpartition('.')[2]}, but granian is not installed: "
        "pip install 'django-prodserver[granian]'",
    )


def test_an_unknown_args_key_suggests_the_option() -> None:
    assert error("web", processes=web(ARGS={"work": 4})) == (
        "Process 'web': ARGS key 'work' is not a gunicorn option; did you mean 'workers'?"
    )


def test_an_unknown_args_key_without_a_close_match_points_at_help() -> None:
    assert error("web", processes=web(UVICORN, ARGS={"frobnicate": 1})) == (
        "Process 'web': ARGS key 'frobnicate' is not a uvicorn option; see 'uvicorn --help' for its options."
    )


def test_an_unknown_command_line_option_suggests_the_option() -> None:
    assert error("web", "--keepalive=5", processes=web()) == (
        "Process 'web': command-line option '--keepalive=5' is not a gunicorn option; "
        "did you mean 'keep-alive'?"
    )


@pytest.mark.parametrize(
    ("backend", "args", "message"),
    [
        (
            GUNICORN,
            {"workers": "four"},
            "ARGS['workers'] = 'four' is rejected by gunicorn: "
            "argument -w/--workers: invalid int value: 'four'",
        ),
        (
            GUNICORN,
            {"workers": -1},
            "ARGS['workers'] = -1 is rejected by gunicorn: Value must be positive: -1",
        ),
        (
            UVICORN,
            {"log-level": "INFO"},
            "ARGS['log-level'] = 'INFO' is rejected by uvicorn: Invalid value for '--log-level': "
            "'INFO' is not one of 'critical', 'error', 'warning', 'info', 'debug', 'trace'.",
        ),
        (
            GRANIAN_WSGI,
            {"workers": 0},
            "ARGS['workers'] = 0 is rejected by granian: Invalid value for '--workers': "
            "0 is not in the range x>=1.",
        ),
        (
            GRANIAN_WSGI,
            {"backlog": 10},
            "ARGS['backlog'] = 10 is rejected by granian: Invalid value for '--backlog': "
            "10 is not in the range x>=128.",
        ),
        (
            WAITRESS,
            {"threads": "many"},
            "ARGS['threads'] = 'many' is rejected by waitress-serve: "
            "invalid literal for int() with base 10: 'many'",
        ),
    ],
    ids=[
        "gunicorn-type",
        "gunicorn-validator",
        "uvicorn-choice",
        "granian-range",
        "granian-backlog",
        "waitress-type",
    ],
)
def test_a_value_the_program_rejects(backend: str, args: Mapping[str, Any], message: str) -> None:
    assert error("web", processes=web(backend, ARGS=args)) == f"Process 'web': {message}"


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        ({"max-requests": 10, "max_requests": 20}, "'max-requests' and 'max_requests'"),
        ({"workers": 2, "WORKERS": 3}, "'workers' and 'WORKERS'"),
    ],
)
def test_two_spellings_of_one_option_in_args(args: Mapping[str, Any], keys: str) -> None:
    option = next(iter(args)).replace("_", "-")
    assert error("web", processes=web(ARGS=args)) == (
        f"Process 'web': ARGS keys {keys} both set gunicorn's {option!r}; keep one."
    )


def test_two_keys_that_adapt_to_one_option_are_named_as_written() -> None:
    # Granian's ASGI server reads "blocking-threads" above 1 as its runtime threads.
    args = {"blocking-threads": 4, "runtime-threads": 2}
    assert error("web", processes=web("granian-asgi", ARGS=args)) == (
        "Process 'web': ARGS keys 'blocking-threads' and 'runtime-threads' both set granian's "
        "'runtime-threads'; keep one."
    )


def test_an_option_the_program_takes_bare_is_not_refused_as_missing_its_value() -> None:
    # gunicorn 24+'s --proxy-protocol is nargs="?": bare is one of its own forms (auto), and it
    # beats ARGS as any command-line option does. The flag is spelt out with its value: bare,
    # gunicorn would take the application after it as the value. (Before 24 it is an on/off
    # flag.) --workers is not taken bare.
    from django_prodserver.backends.gunicorn import GunicornServer

    found = GunicornServer().schema.lookup("proxy-protocol")
    assert found is not None
    takes_mode = found.option.bare_value is not None
    processes = web(ARGS={"proxy-protocol": "v1" if takes_mode else False})
    bare = run_manage("prodserver", "web", "--dry-run", "--proxy-protocol", processes=processes)
    assert bare.returncode == 0, bare.stderr
    command = bare.stdout.splitlines()[0]
    expected = "--proxy-protocol=auto" if takes_mode else "--proxy-protocol"
    assert f" {expected} django_prodserver.gateway:wsgi" in command, bare.stdout
    assert "v1" not in command
    assert error("web", "--workers", processes=web()) == (
        "Process 'web': command-line option '--workers' needs a value, e.g. '--workers=VALUE'."
    )


@pytest.mark.parametrize("token", ["-w", "-w3"])
def test_a_short_option_on_the_command_line_asks_for_the_long_form(token: str) -> None:
    given = f"{token} 3" if token == "-w" else token
    assert error("web", *given.split(), processes=web()) == (
        f"Process 'web': command-line option {given!r} is a short option, and prodserver reads options "
        "by their long names; write the long form that 'gunicorn --help' lists beside -w."
    )


def test_a_bind_gunicorn_would_reject_only_at_start() -> None:
    assert error("web", processes=web(ARGS={"bind": "not a host:port:x"})) == (
        "Process 'web': ARGS['bind'] = 'not a host:port:x' is rejected by gunicorn: "
        "'port' is not a valid port number."
    )


@pytest.mark.parametrize(
    ("backend", "args", "address"),
    [(UVICORN, {"port": -1}, "127.0.0.1:-1"), (GUNICORN, {"bind": "127.0.0.1:99999"}, "127.0.0.1:99999")],
    ids=["uvicorn-negative", "gunicorn-too-high"],
)
def test_a_port_out_of_range(backend: str, args: Mapping[str, Any], address: str) -> None:
    assert error("web", processes=web(backend, ARGS=args)) == (
        f"Process 'web': cannot listen on {address}: a TCP port is 0 to 65535; "
        "fix the address in ARGS, the command line or PORT."
    )


def test_options_the_program_rejects_only_together() -> None:
    # No single key is wrong, so the message names the program's objection.
    args = {"host": "127.0.0.1", "listen": f"127.0.0.1:{free_port()}"}
    assert error("web", processes=web(WAITRESS, ARGS=args)) == (
        "Process 'web': waitress-serve rejects the options: host or port may not be set if listen is set."
    )


def test_a_bad_value_on_the_command_line_names_the_option() -> None:
    assert error("web", "--workers", "four", processes=web()) == (
        "Process 'web': command-line option '--workers four' = 'four' is rejected by gunicorn: "
        "argument -w/--workers: invalid int value: 'four'"
    )


@pytest.mark.parametrize(
    ("args", "where"),
    [
        ({"workers": 0}, "ARGS['workers']"),
        ("-w 0", "ARGS option 'workers'"),
        ("--workers=00", "ARGS option 'workers'"),
    ],
    ids=["args", "raw-args-short", "raw-args-long"],
)
def test_gunicorn_without_workers_is_refused(args: Any, where: str) -> None:
    # gunicorn's parser takes 0: its master then holds the port and nothing ever answers.
    assert error("web", processes=web(GUNICORN, ARGS=args)) == (
        f"Process 'web': {where} = 0 starts no gunicorn worker, so nothing would answer; use 1 or "
        "more, or leave it out (prodserver then sizes it to the CPUs)."
    )


def test_gunicorn_cmd_args_without_workers_is_this_machines_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    from django_prodserver.check_ids import check_id
    from django_prodserver.conf import parse_process
    from django_prodserver.errors import OptionError
    from django_prodserver.loading import load_backend

    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--workers 0")
    backend = load_backend(parse_process("web", {"BACKEND": GUNICORN}))
    with pytest.raises(OptionError) as info:
        backend.validate()
    assert check_id(info.value).id == "prodserver.E012"
    assert str(info.value) == (
        "Process 'web': GUNICORN_CMD_ARGS option 'workers' = 0 starts no gunicorn worker, so nothing "
        "would answer; use 1 or more, or leave it out (prodserver then sizes it to the CPUs)."
    )


# ----- the port ------------------------------------------------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("backend", "address"),
    [
        (GUNICORN, lambda port: {"bind": f"127.0.0.1:{port}"}),
        (UVICORN, lambda port: {"host": "127.0.0.1", "port": port}),
        (GRANIAN_ASGI, lambda port: {"address": "127.0.0.1", "port": port}),
        (WAITRESS, lambda port: {"listen": f"127.0.0.1:{port}"}),
    ],
    ids=["gunicorn", "uvicorn", "granian", "waitress"],
)
def test_port_already_in_use(backend: str, address: Any, taken_port: int) -> None:
    # A subprocess: found just before the program starts, which must not happen in pytest.
    assert_error(
        fails("web", processes=web(backend, ARGS=address(taken_port))),
        f"Process 'web': cannot listen on 127.0.0.1:{taken_port}: the address is already in use; "
        "stop the other server or choose another port (ARGS, a command-line override, or PORT).",
    )


def test_port_in_use_through_the_platform_port(taken_port: int) -> None:
    # PORT listens on all interfaces, which includes the loopback socket the test holds.
    result = fails("web", processes=web(), env={"PORT": str(taken_port)})
    assert_error(
        result,
        f"Process 'web': cannot listen on 0.0.0.0:{taken_port}: the address is already in use; "
        "stop the other server or choose another port (ARGS, a command-line override, or PORT).",
    )


# ----- the application -----------------------------------------------------------------------


def test_app_names_a_module_that_does_not_exist() -> None:
    assert error("web", processes=web(APP="mysite.wsgi.application")) == (
        "Process 'web': APP 'mysite.wsgi.application' cannot be loaded: there is no module 'mysite.wsgi'; "
        "fix PRODUCTION_PROCESSES['web']['APP'] (e.g. 'mysite.wsgi:application')."
    )


def test_app_names_an_attribute_the_module_does_not_define() -> None:
    assert error("web", processes=web(UVICORN, APP="testproject.asgi:app")) == (
        "Process 'web': APP 'testproject.asgi:app' cannot be loaded: "
        "module 'testproject.asgi' defines no 'app'; "
        "fix PRODUCTION_PROCESSES['web']['APP'] (e.g. 'mysite.asgi:application')."
    )


def test_wsgi_application_setting_is_wrong() -> None:
    assert error("web", processes=web(), changes={"WSGI_APPLICATION": "testproject.wsgi.app"}) == (
        "Process 'web': WSGI_APPLICATION 'testproject.wsgi.app' cannot be loaded: "
        "module 'testproject.wsgi' defines no 'app'; "
        "fix the WSGI_APPLICATION setting (e.g. 'mysite.wsgi.application') or set 'APP'."
    )


def test_wsgi_application_setting_is_missing() -> None:
    assert error("web", processes=web(WAITRESS), changes={"WSGI_APPLICATION": None}) == (
        "Process 'web' serves the WSGI application, but WSGI_APPLICATION is not set: "
        "add WSGI_APPLICATION = 'mysite.wsgi.application' to your settings (or set 'APP')."
    )


def test_asgi_application_not_found() -> None:
    assert error("web", processes=web(UVICORN), changes={"WSGI_APPLICATION": None}) == (
        "Process 'web' serves the ASGI application, but none was found: "
        "set ASGI_APPLICATION = 'mysite.asgi.application' in your settings (or set 'APP')."
    )


def test_asgi_application_setting_is_wrong() -> None:
    assert error(
        "web", processes=web(GRANIAN_ASGI), changes={"ASGI_APPLICATION": "testproject.asgi.app"}
    ) == (
        "Process 'web': ASGI_APPLICATION 'testproject.asgi.app' cannot be loaded: "
        "module 'testproject.asgi' defines no 'app'; "
        "fix the ASGI_APPLICATION setting (e.g. 'mysite.asgi.application') or set 'APP'."
    )


# ----- what only a process shows: exit status 1, one line, no traceback ----------------------


@pytest.mark.parametrize(
    ("args", "processes", "changes", "message"),
    [
        (
            ("web",),
            MISSING,
            None,
            "The PRODUCTION_PROCESSES setting is missing: define it in your settings, e.g. "
            f"PRODUCTION_PROCESSES = {{'web': {{'BACKEND': {EXAMPLE_BACKEND}}}}}.",
        ),
        (
            ("web",),
            web("myproject.servers.Server"),
            None,
            "Process 'web': BACKEND 'myproject.servers.Server' cannot be imported (no module named "
            f"'myproject'); check the dotted path, e.g. {EXAMPLE_BACKEND}.",
        ),
        (
            ("web",),
            web(ARGS={"work": 4}),
            None,
            "Process 'web': ARGS key 'work' is not a gunicorn option; did you mean 'workers'?",
        ),
        (
            ("web", "--workers", "four"),
            web(),
            None,
            "Process 'web': command-line option '--workers four' = 'four' is rejected by gunicorn: "
            "argument -w/--workers: invalid int value: 'four'",
        ),
        (
            ("web",),
            web(),
            {"WSGI_APPLICATION": "testproject.wsgi.app"},
            "Process 'web': WSGI_APPLICATION 'testproject.wsgi.app' cannot be loaded: "
            "module 'testproject.wsgi' defines no 'app'; "
            "fix the WSGI_APPLICATION setting (e.g. 'mysite.wsgi.application') or set 'APP'.",
        ),
    ],
    ids=["setting", "backend", "args", "command-line", "application"],
)
def test_each_kind_of_error_exits_1_with_the_message_alone(
    args: tuple[str, ...], processes: Any, changes: Mapping[str, Any] | None, message: str
) -> None:
    assert_error(fails(*args, settings=changes, **setting(processes)), message)
    assert error(*args, processes=processes, changes=changes) == message


@pytest.mark.parametrize(
    ("backend", "listen"),
    [("waitress", {"host": "127.0.0.1"}), ("daphne", {"bind": "127.0.0.1"})],
)
def test_an_app_that_is_not_an_application_stops_the_server_instead_of_serving_500s(
    backend: str, listen: dict[str, str]
) -> None:
    # The check reads the module without importing it, so this passes it; the gateway refuses
    # the object when the server loads it (else the probes would answer 200 and every page 500).
    # Both servers load it in prodserver's own process: one line.
    entry = {"APP": "testproject.settings:SECRET_KEY", "ARGS": {**listen, "port": free_port()}}
    assert_error(
        fails("web", processes=web(backend, **entry)),
        "Process 'web': testproject.settings:SECRET_KEY is a str, not an application; point APP (or "
        "WSGI_APPLICATION / ASGI_APPLICATION) at the application object, e.g. 'mysite.wsgi:application'.",
    )


# ----- traceback on request, help always -----------------------------------------------------


def test_traceback_option_shows_the_traceback() -> None:
    result = fails("web", "--traceback", processes=web(ARGS={"work": 4}))
    assert result.stderr.startswith("Traceback (most recent call last):\n"), result.stderr
    assert result.stderr.endswith(
        "django.core.management.base.CommandError: "
        "Process 'web': ARGS key 'work' is not a gunicorn option; did you mean 'workers'?\n"
    ), result.stderr


@pytest.mark.parametrize(
    "processes",
    [MISSING, {}, ["web"], {"web": {}}, {"web": {"BACKEND": "nosuch.Backend"}}],
    ids=["missing", "empty", "list", "no-backend", "bad-backend"],
)
def test_help_works_with_a_broken_setting(processes: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with configured(processes):
        ManagementUtility(["manage.py", "help", "prodserver"]).execute()
    out, err = capsys.readouterr()
    assert out.startswith("usage: manage.py prodserver "), out
    assert "--dry-run" in out
    assert err == ""


def test_help_exits_0_without_the_setting() -> None:
    result = run_manage("help", "prodserver", timeout=30, **setting(MISSING))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: manage.py prodserver "), result.stdout
    assert result.stderr == ""

"""Command-line overrides: ``prodserver web --workers=8`` and ``prodserver web -- --workers=8``.

Options after the process name go to the program and replace the same option from ARGS
(and from the environment); they are validated by the program's own parser like ARGS. The
precedence default < environment < ARGS < command line is proven on every web backend with
the real server, observed from outside: which address accepts connections and how many
workers run.
"""

from __future__ import annotations

import pytest

from contract import BY_ID, WEB_BACKENDS, WITH_WORKERS, WebBackend, accepts, wait_workers
from django_prodserver.backends.web import WebServerBackend
from django_prodserver.conf import parse_process
from django_prodserver.loading import load_backend
from harness import free_port, prodserver, run_manage
from in_process import command_error

pytestmark = pytest.mark.usefixtures("no_platform_variables")


@pytest.mark.parametrize("backend", WEB_BACKENDS, ids=lambda b: b.id)
def test_the_command_line_beats_args_which_beat_the_environment(backend: WebBackend) -> None:
    args_port, env_port, cli_port = free_port(), free_port(), free_port()
    args = backend.listen_args("127.0.0.1", args_port)
    if backend.workers:
        args[backend.workers] = 1
    processes = {"web": {"BACKEND": backend.path, "ARGS": args}}
    env = {"PORT": str(env_port), "WEB_CONCURRENCY": "3"}
    overrides = backend.listen_override("127.0.0.1", cli_port)
    # Both spellings: options straight after the name, and everything after "--".
    extra = ("--", *overrides) if WEB_BACKENDS.index(backend) % 2 else tuple(overrides)
    with prodserver("web", processes=processes, env=env, extra=extra) as child:
        child.wait_http(f"http://127.0.0.1:{cli_port}/")
        wait_workers(backend, child, 1)  # ARGS' 1, not WEB_CONCURRENCY's 3
        # The override replaced ARGS' address instead of adding a second one, and PORT
        # (which would mean 0.0.0.0) did not apply at all.
        assert not accepts("127.0.0.1", args_port), child.output
        assert not accepts("127.0.0.1", env_port), child.output
        assert not accepts("127.0.0.2", cli_port), child.output


@pytest.mark.parametrize("backend", WITH_WORKERS, ids=lambda b: b.id)
def test_an_override_replaces_args_and_the_environment_in_the_dry_run(
    backend: WebBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    process = parse_process("web", {"BACKEND": backend.path, "ARGS": {backend.workers: 1}})
    loaded = load_backend(process, [f"--{backend.workers}", "2"])
    assert isinstance(loaded, WebServerBackend)
    rows = [
        (option, source)
        for option, _, source in loaded.describe()
        if option.startswith(f"--{backend.workers}=")
    ]
    assert rows == [(f"--{backend.workers}=2", "command line")]
    assert loaded.command().count(f"--{backend.workers}=2") == 1


def test_the_dry_run_prints_the_command_with_the_override() -> None:
    processes = {"web": {"BACKEND": BY_ID["uvicorn"].path, "ARGS": {"workers": 1, "log-level": "warning"}}}
    result = run_manage("prodserver", "web", "--dry-run", "--log-level=debug", processes=processes)
    assert result.returncode == 0, result.stderr
    command, *rows = result.stdout.splitlines()
    assert "--log-level=debug" in command.split()
    assert "--log-level=warning" not in command
    assert ["--log-level=debug", "command", "line", "command-line", "option", "'--log-level=debug'"] in [
        row.split() for row in rows
    ]


@pytest.mark.parametrize(
    ("backend", "extra", "message"),
    [
        (
            "gunicorn",
            ["--wrkers=2"],
            "Process 'web': command-line option '--wrkers=2' is not a gunicorn option; did you mean "
            "'workers', 'worker-class' or 'dirty-workers'?",
        ),
        (
            "gunicorn",
            ["--workers", "many"],
            "Process 'web': command-line option '--workers many' = 'many' is rejected by gunicorn: "
            "argument -w/--workers: invalid int value: 'many'",
        ),
        (
            "uvicorn",
            ["--", "--log-level=LOUD"],
            "Process 'web': command-line option '--log-level=LOUD' = 'LOUD' is rejected by uvicorn: "
            "Invalid value for '--log-level': 'LOUD' is not one of 'critical', 'error', 'warning', 'info', "
            "'debug', 'trace'.",
        ),
        (
            "uvicorn",
            ["--access-log=yes please"],
            "Process 'web': command-line option '--access-log=yes please' = 'yes please': "
            "'--access-log' is an on/off flag; use True or False, not 'yes please'.",
        ),
        (
            "waitress",
            ["--threads=-"],
            "Process 'web': command-line option '--threads=-' = '-' is rejected by waitress-serve: "
            "invalid literal for int() with base 10: '-'",
        ),
        (
            "gunicorn",
            ["--workers", "--preload"],
            "Process 'web': command-line option '--workers' needs a value, e.g. '--workers=VALUE'.",
        ),
    ],
    ids=["unknown", "bad-int", "bad-choice", "bad-flag", "waitress", "no-value"],
)
@pytest.mark.usefixtures("django_project")
def test_a_bad_override_is_reported_in_one_line_before_anything_starts(
    backend: str, extra: list[str], message: str
) -> None:
    # In this process; the exit status and bare stderr of such an error are test_errors.py's.
    port = free_port()
    processes = {
        "web": {"BACKEND": BY_ID[backend].path, "ARGS": BY_ID[backend].listen_args("127.0.0.1", port)}
    }
    assert command_error("web", *extra, processes=processes) == message
    assert not accepts("127.0.0.1", port)


def test_check_validates_the_overrides_too() -> None:
    processes = {"web": {"BACKEND": BY_ID["gunicorn"].path}}
    result = run_manage("prodserver", "--check", "web", "--timeout=soon", processes=processes)
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: Process 'web': command-line option '--timeout=soon' = 'soon' is rejected by "
        "gunicorn: argument -t/--timeout: invalid int value: 'soon'\n"
    )

"""UWSGIServer: the real uWSGI binary through ``manage.py prodserver``, and its one-line errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from harness import MANAGE, TESTS_DIR, child_env, free_port, prodserver, run_manage
from in_process import command_error
from live_checks import page, sigterm_with_request_in_flight

pytestmark = pytest.mark.lowest  # also run by scripts/test-lowest

UWSGI = "django_prodserver.backends.uwsgi.UWSGIServer"

FIXED = (
    "--master --need-app --die-on-term '--hook-master-start=unix_signal:15 gracefully_kill_them_all' "
    "'--hook-accepting=unix_signal:15 gracefully_kill' '--hook-as-gateway=unix_signal:15 uwsgi_opt_noop' "
    "--module=django_prodserver.gateway:wsgi"
)


def web(args: Any = None, **entry: Any) -> dict[str, Any]:
    return {"web": {"BACKEND": UWSGI, "ARGS": {} if args is None else args, **entry}}


def _uwsgi_version() -> tuple[int, ...]:
    from django_prodserver.backends.uwsgi import uwsgi_binary

    binary = uwsgi_binary()
    if binary is None:
        return ()
    text = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    return tuple(int(part) for part in text.strip().split(".")[:3] if part.isdigit())


#: uWSGI 2.0.23 stops its HTTP router at once on a graceful shutdown (requests in flight
#: through it are cut); 2.0.31 lets it drain. http-socket drains on both.
router_drains = pytest.mark.skipif(
    _uwsgi_version() < (2, 0, 31), reason="this uWSGI's --http router does not drain"
)


@pytest.mark.parametrize("every_process", [False, True], ids=["master", "every-process"])
@pytest.mark.parametrize("listen", ["http-socket", pytest.param("http", marks=router_drains)])
def test_serves_wsgi_and_stops_gracefully_on_sigterm(listen: str, every_process: bool) -> None:
    # http-socket: the workers speak HTTP; http: uWSGI's own HTTP router in front of them.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with prodserver("web", processes=web({listen: f"127.0.0.1:{port}", "processes": 2})) as child:
        child.wait_http(f"{base}/")
        page(child, f"{base}/", body="hello from testproject")
        # uWSGI 2.0 reloads on SIGTERM and then kills workers mid-request; not here. Sent to
        # every process, SIGTERM reaches the worker serving the request, and the router.
        sigterm_with_request_in_flight(child, base, every_process=every_process)


def test_an_app_that_fails_to_import_stops_uwsgi(tmp_path: Path) -> None:
    # Without --need-app uWSGI keeps running in "dynamic mode" and answers 500 to everything.
    (tmp_path / "brokenapp.py").write_text('raise RuntimeError("settings are broken")\napplication = None\n')
    port = free_port()
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(TESTS_DIR)])}
    processes = web({"http-socket": f"127.0.0.1:{port}", "processes": 1}, APP="brokenapp:application")
    with prodserver("web", processes=processes, env=env) as child:
        code = child.wait(60)
        assert code == 22, child.output
        assert "RuntimeError: settings are broken" in child.output


def test_dry_run_shows_the_fixed_options_and_the_platform_contract() -> None:
    result = run_manage(
        "prodserver", "web", "--dry-run", processes=web(), env={"PORT": "8123", "WEB_CONCURRENCY": "3"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "DJANGO_PRODSERVER_APP=testproject.wsgi:application "
        "uwsgi --http-socket=0.0.0.0:8123 --enable-threads --single-interpreter --vacuum --buffer-size=32768 "
        f"--worker-reload-mercy=25 --processes=3 {FIXED}"
    )


def test_spellings_of_one_option_are_one_option() -> None:
    # --workers is uWSGI's other name for --processes: ARGS' value replaces WEB_CONCURRENCY's.
    result = run_manage(
        "prodserver",
        "web",
        "--dry-run",
        processes=web({"workers": 4, "need-app": False}),
        env={"WEB_CONCURRENCY": "3"},
    )
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert " --processes=4 " in first
    assert "--processes=3" not in first
    # need-app takes an optional value: False leaves the bare flag out.
    assert "--need-app" not in first


@pytest.mark.parametrize(
    ("key", "ours"),
    [
        ("hook-master-start", "unix_signal:15 gracefully_kill_them_all"),
        ("hook-accepting", "unix_signal:15 gracefully_kill"),
        ("hook-as-gateway", "unix_signal:15 uwsgi_opt_noop"),
    ],
)
def test_own_hooks_keep_the_sigterm_mappings(key: str, ours: str) -> None:
    hook = "unix_signal:10 reload"
    result = run_manage("prodserver", "web", "--dry-run", processes=web({key: hook}))
    assert result.returncode == 0, result.stderr
    assert f"'--{key}={ours}' '--{key}={hook}'" in result.stdout.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"proceses": 2},
            "Process 'web': ARGS key 'proceses' is not a uwsgi option; did you mean 'processes', "
            "'http-processes' or 'spooler-processes'?",
        ),
        (
            {"master": "yes please"},
            "Process 'web': ARGS['master'] = 'yes please': '--master' is an on/off flag; use True or False, "
            "not 'yes please'.",
        ),
        (
            {"harakiri": True},
            "Process 'web': ARGS['harakiri'] = True: '--harakiri' takes a value, not on/off (uwsgi would "
            "read 'True' as its value); see 'uwsgi --help'.",
        ),
        (
            {"processes": "four"},
            "Process 'web': ARGS['processes'] = 'four' is not a number of processes; uwsgi would start "
            "without any. Use a whole number of at least 1.",
        ),
        (
            {"ini": "/nonexistent/uwsgi.ini"},
            "Process 'web': ARGS['ini'] = '/nonexistent/uwsgi.ini' is rejected by uwsgi: realpath() of "
            "/nonexistent/uwsgi.ini failed: No such file or directory",
        ),
        (
            {"daemonize": "/tmp/uwsgi.log"},
            "Process 'web': ARGS key 'daemonize' is refused: it makes uwsgi detach into the background, "
            "beyond the reach of prodserver's supervisor and of every later stop signal; remove it (the "
            "supervisor, systemd or the platform keeps the process running).",
        ),
        (
            "--http-socket=127.0.0.1:0 --daemonize2=/tmp/uwsgi.log",
            "Process 'web': ARGS option '--daemonize2=/tmp/uwsgi.log' is refused: it makes uwsgi detach "
            "into the background, beyond the reach of prodserver's supervisor and of every later stop "
            "signal; remove it (the supervisor, systemd or the platform keeps the process running).",
        ),
        (
            ["--http-socket=127.0.0.1:0", "-d", "/tmp/uwsgi.log"],
            "Process 'web': ARGS option '-d' is refused: it makes uwsgi detach into the background, "
            "beyond the reach of prodserver's supervisor and of every later stop signal; remove it (the "
            "supervisor, systemd or the platform keeps the process running).",
        ),
        (
            "--master=1 --http-socket=127.0.0.1:0",
            "Process 'web': uwsgi rejects the options: option '--master' doesn't allow an argument",
        ),
    ],
)
@pytest.mark.usefixtures("django_project", "no_platform_variables")
def test_errors_name_the_setting(args: Any, message: str) -> None:
    # In this process; the exit status and bare stderr of such an error are test_errors.py's.
    assert command_error("web", processes=web(args)) == message


def test_not_installed_names_the_extra(tmp_path: Path) -> None:
    # A Python outside the venv (a link to the base interpreter) that still imports the
    # project, Django and prodserver, with no uwsgi beside it or on PATH.
    base_python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.symlink_to(base_python)
    src = Path(__file__).resolve().parents[1] / "src"
    env = child_env(web())
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), str(src), sysconfig.get_path("purelib")])
    env["PATH"] = str(tmp_path / "bin")
    env.pop("VIRTUAL_ENV", None)
    probe = [str(python), "-c", "import sys, sysconfig; print(sysconfig.get_path('scripts'))"]
    scripts = subprocess.run(probe, capture_output=True, text=True, env=env, check=True).stdout.strip()
    if (Path(scripts) / "uwsgi").exists():
        pytest.skip(f"uwsgi is installed for the base interpreter too ({scripts})")
    result = subprocess.run(
        [str(python), str(MANAGE), "prodserver", "web"],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(TESTS_DIR),
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (
        1,
        "CommandError: Process 'web' uses UWSGIServer, but uwsgi is not installed: "
        "pip install 'django-prodserver[uwsgi]'\n",
    )


def test_a_taken_port_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_manage(
            "prodserver", "web", processes=web({"http-socket": f"127.0.0.1:{port}"}), timeout=30
        )
    assert (result.returncode, result.stderr) == (
        1,
        f"CommandError: Process 'web': cannot listen on 127.0.0.1:{port}: the address is already in use; "
        "stop the other server or choose another port (ARGS, a command-line override, or PORT).\n",
    )

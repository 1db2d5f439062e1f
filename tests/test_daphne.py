"""DaphneServer: real servers through ``manage.py prodserver``, and its one-line errors."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

from harness import TESTS_DIR, free_port, prodserver, run_manage
from in_process import command_error
from live_checks import page, sigterm_with_request_in_flight, streamed_lines, websocket_echo

pytestmark = pytest.mark.lowest  # also run by scripts/test-lowest

DAPHNE = "django_prodserver.backends.daphne.DaphneServer"


def web(args: Any = None, **entry: Any) -> dict[str, Any]:
    return {"web": {"BACKEND": DAPHNE, "ARGS": args or {}, **entry}}


def test_serves_asgi_streams_and_echoes_websockets_and_trusts_star_proxies() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"FORWARDED_ALLOW_IPS": "*"}
    with prodserver("web", processes=web({"bind": "127.0.0.1", "port": port}), env=env) as child:
        child.wait_http(f"{base}/")
        page(child, f"{base}/async/", body="async hello")
        streamed_lines(child, f"{base}/stream/")
        websocket_echo(child, f"ws://127.0.0.1:{port}/ws/echo/")
        # FORWARDED_ALLOW_IPS='*' is the one value daphne can honour: --proxy-headers.
        who = child.wait_http(f"{base}/whoami/", headers={"X-Forwarded-For": "203.0.113.9"}).json()
        assert who["remote_addr"] == "203.0.113.9", child.output


def test_sigterm_finishes_the_request_and_closes_websockets_cleanly() -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"FORWARDED_ALLOW_IPS": "10.0.0.1", "WEB_CONCURRENCY": "4"}
    with prodserver("web", processes=web({"port": port}), env=env) as child:
        child.wait_http(f"{base}/")
        # Both platform variables daphne cannot use are named at start, not silently dropped.
        # (Waited for: the reader thread may not have the lines yet when the first answer comes.)
        child.wait_for_line(
            "prodserver: web: WEB_CONCURRENCY=4 is ignored: daphne serves from one process; run "
        )
        child.wait_for_line(
            "prodserver: web: FORWARDED_ALLOW_IPS='10.0.0.1' is ignored: daphne trusts proxy headers "
            "from every peer or from none; set it to '*' (or ARGS 'proxy-headers') when only your "
            "proxy can reach daphne."
        )
        with connect(f"ws://127.0.0.1:{port}/ws/echo/", open_timeout=10) as ws:
            ws.send("before")
            assert ws.recv(timeout=10) == "echo: before"
            sigterm_with_request_in_flight(child, base)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1000


def test_dry_run_maps_port_and_star_proxies() -> None:
    result = run_manage(
        "prodserver",
        "web",
        "--dry-run",
        processes=web(),
        env={"PORT": "8123", "FORWARDED_ALLOW_IPS": "*"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "DJANGO_PRODSERVER_APP=testproject.asgi:application "
        "daphne --bind=0.0.0.0 --port=8123 --proxy-headers django_prodserver.gateway:asgi"
    )


def test_host_is_daphnes_bind() -> None:
    result = run_manage("prodserver", "web", "--dry-run", processes=web({"host": "127.0.0.1", "port": 9000}))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "DJANGO_PRODSERVER_APP=testproject.asgi:application "
        "daphne --bind=127.0.0.1 --port=9000 django_prodserver.gateway:asgi"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"ping-intervall": 5},
            "Process 'web': ARGS key 'ping-intervall' is not a daphne option; did you mean 'ping-interval'?",
        ),
        (
            {"port": "abc"},
            "Process 'web': ARGS['port'] = 'abc' is rejected by daphne: argument -p/--port: invalid int "
            "value: 'abc'",
        ),
        (
            {"proxy-headers-host": "X-Real-IP"},
            "Process 'web': ARGS['proxy-headers-host'] = 'X-Real-IP' is rejected by daphne: argument "
            "--proxy-headers-host: --proxy-headers has to be passed for this parameter.",
        ),
        (
            {"verbosity": 7},
            "Process 'web': ARGS['verbosity'] = 7 is rejected by daphne: argument -v/--verbosity: 7 is "
            "not 0, 1, 2 or 3",
        ),
    ],
)
@pytest.mark.usefixtures("django_project", "no_platform_variables")
def test_errors_name_the_setting(args: dict[str, Any], message: str) -> None:
    # In this process; the exit status and bare stderr of such an error are test_errors.py's.
    assert command_error("web", processes=web(args)) == message


def test_not_installed_names_the_extra() -> None:
    pythonpath = os.pathsep.join([str(TESTS_DIR / "shims" / "without_daphne"), str(TESTS_DIR)])
    result = run_manage("prodserver", "web", processes=web(), env={"PYTHONPATH": pythonpath}, timeout=30)
    assert (result.returncode, result.stderr) == (
        1,
        "CommandError: Process 'web' uses DaphneServer, but daphne is not installed: "
        "pip install 'django-prodserver[daphne]'\n",
    )


def test_a_taken_port_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_manage("prodserver", "web", processes=web({"port": port}), timeout=30)
    assert (result.returncode, result.stderr) == (
        1,
        f"CommandError: Process 'web': cannot listen on 127.0.0.1:{port}: the address is already in use; "
        "stop the other server or choose another port (ARGS, a command-line override, or PORT).\n",
    )

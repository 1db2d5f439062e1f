"""HypercornServer: real servers through ``manage.py prodserver``, and its one-line errors."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import TESTS_DIR, free_port, prodserver, run_manage, self_signed_certificate
from in_process import command_error
from live_checks import page, sigterm_with_request_in_flight, streamed_lines, websocket_echo

pytestmark = pytest.mark.lowest  # also run by scripts/test-lowest

HYPERCORN = "django_prodserver.backends.hypercorn.HypercornServer"


def web(args: Any, **entry: Any) -> dict[str, Any]:
    return {"web": {"BACKEND": HYPERCORN, "ARGS": args, **entry}}


def dry_run(args: Any, env: dict[str, str] | None = None) -> list[str]:
    result = run_manage("prodserver", "web", "--dry-run", processes=web(args), env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_serves_asgi_over_http1_h2c_and_websockets() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = {"bind": f"127.0.0.1:{port}", "workers": 1, "access-logfile": "-"}
    with prodserver("web", processes=web(args)) as child:
        child.wait_http(f"{base}/")
        page(child, f"{base}/async/", body="async hello")
        streamed_lines(child, f"{base}/stream/")
        # HTTP/2 over cleartext, with prior knowledge (what a proxy speaking h2c to it sends).
        with httpx.Client(http1=False, http2=True, timeout=10) as client:
            response = client.get(f"{base}/async/")
        assert (response.http_version, response.status_code, response.text) == ("HTTP/2", 200, "async hello")
        websocket_echo(child, f"ws://127.0.0.1:{port}/ws/echo/")
        # An access log asked for in ARGS goes to stdout.
        child.wait_for_line('"GET /async/ 2" 200')


def test_tls_options_serve_http2_by_alpn(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    args = {"bind": f"127.0.0.1:{port}", "workers": 1, "certfile": str(cert), "keyfile": str(key)}
    with prodserver("web", processes=web(args)) as child:
        child.wait_for_line("Running on https://")
        with httpx.Client(
            http2=True, verify=ssl.create_default_context(cafile=str(cert)), timeout=10
        ) as client:
            response = client.get(f"https://127.0.0.1:{port}/async/")
        assert (response.http_version, response.status_code, response.text) == ("HTTP/2", 200, "async hello")


def test_sigterm_lets_every_worker_finish_its_request() -> None:
    # Two workers: hypercorn SIGTERMs the busy one as soon as the idle one has exited.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with prodserver("web", processes=web({"bind": f"127.0.0.1:{port}", "workers": 2})) as child:
        child.wait_http(f"{base}/")
        sigterm_with_request_in_flight(child, base)


def test_one_worker_is_served_in_the_process_and_finishes_its_request_on_sigterm() -> None:
    # Hypercorn would spawn a fresh interpreter for its one worker, importing Django twice.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with prodserver("web", processes=web({"bind": f"127.0.0.1:{port}", "workers": 1})) as child:
        child.wait_http(f"{base}/")
        children = Path(f"/proc/{child.pid}/task/{child.pid}/children").read_text().split()
        assert children == [], f"hypercorn started worker processes: {children}"
        sigterm_with_request_in_flight(child, base)


def test_dry_run_shows_defaults_and_the_platform_contract() -> None:
    lines = dry_run({}, env={"PORT": "8123", "WEB_CONCURRENCY": "3"})
    assert lines[0] == (
        "DJANGO_PRODSERVER_APP=testproject.asgi:application "
        "hypercorn --keep-alive=75 --graceful-timeout=25 "
        "--workers=3 --bind=0.0.0.0:8123 django_prodserver.gateway:asgi"
    )


def test_args_replace_the_port_binding_and_config_file_replaces_defaults(tmp_path: Path) -> None:
    config = tmp_path / "hypercorn.toml"
    config.write_text("keep_alive_timeout = 10\n")
    lines = dry_run(
        {"config": str(config), "bind": ["127.0.0.1:9001", "127.0.0.1:9002"]}, env={"PORT": "8123"}
    )
    assert lines[0] == (
        "DJANGO_PRODSERVER_APP=testproject.asgi:application "
        f"hypercorn --config={config} --bind=127.0.0.1:9001 "
        "--bind=127.0.0.1:9002 django_prodserver.gateway:asgi"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"worker": 2},
            "Process 'web': ARGS key 'worker' is not a hypercorn option; did you mean 'workers' or "
            "'worker-class'?",
        ),
        (
            {"workers": "two"},
            "Process 'web': ARGS['workers'] = 'two' is rejected by hypercorn: argument -w/--workers: "
            "invalid int value: 'two'",
        ),
        (
            {"debug": "loud"},
            "Process 'web': ARGS['debug'] = 'loud': '--debug' is an on/off flag; use True or False, "
            "not 'loud'.",
        ),
        (
            {"config": "/nonexistent/hypercorn.toml"},
            "Process 'web': ARGS['config'] = '/nonexistent/hypercorn.toml' is rejected by hypercorn: "
            "[Errno 2] No such file or directory: '/nonexistent/hypercorn.toml'",
        ),
        (
            {"certfile": "/nonexistent/cert.pem", "keyfile": "/nonexistent/key.pem"},
            "Process 'web': hypercorn cannot load the TLS certificate ARGS['certfile'] = "
            "'/nonexistent/cert.pem' with the key ARGS['keyfile'] = '/nonexistent/key.pem': "
            "[Errno 2] No such file or directory.",
        ),
        (
            {"certfile": "/etc/ssl/cert.pem"},
            "Process 'web': ARGS['certfile'] is set without 'keyfile': hypercorn serves TLS only "
            "with both, and would serve plain HTTP; set 'keyfile' too.",
        ),
    ],
)
@pytest.mark.usefixtures("django_project", "no_platform_variables")
def test_errors_name_the_setting(args: dict[str, Any], message: str) -> None:
    # In this process; the exit status and bare stderr of such an error are test_errors.py's.
    assert command_error("web", processes=web(args)) == message


def test_a_taken_port_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_manage("prodserver", "web", processes=web({"bind": f"127.0.0.1:{port}"}), timeout=30)
    assert result.returncode == 1
    assert result.stderr == (
        f"CommandError: Process 'web': cannot listen on 127.0.0.1:{port}: the address is already in use; "
        "stop the other server or choose another port (ARGS, a command-line override, or PORT).\n"
    )


def test_not_installed_names_the_extra() -> None:
    # tests/shims/without_hypercorn/ first on the path: importing hypercorn fails as when absent.
    pythonpath = os.pathsep.join([str(TESTS_DIR / "shims" / "without_hypercorn"), str(TESTS_DIR)])
    result = run_manage("prodserver", "web", processes=web({}), env={"PYTHONPATH": pythonpath}, timeout=30)
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: Process 'web' uses HypercornServer, but hypercorn is not installed: "
        "pip install 'django-prodserver[hypercorn]'\n"
    )

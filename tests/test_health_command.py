"""``prodserver --healthcheck [NAME]`` against running and stopped servers: exit code and one line."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from django_prodserver.backends.base import BaseProcessBackend
from harness import free_port, prodserver, run_manage, self_signed_certificate
from test_health import MIDDLEWARE, web

SETTINGS = {"MIDDLEWARE": MIDDLEWARE, "PRODSERVER_HEALTH": {"READY_CHECKS": []}}


@pytest.mark.parametrize("backend", ["gunicorn", "uvicorn"])
def test_exit_0_while_running_and_1_once_stopped(backend: str) -> None:
    port = free_port()
    processes = web(backend, port)
    with prodserver("web", processes=processes, settings=SETTINGS) as child:
        child.wait_http(f"http://127.0.0.1:{port}/healthz/")
        result = run_manage("prodserver", "--healthcheck", "web", processes=processes, settings=SETTINGS)
        assert result.returncode == 0, result.stderr
        assert re.fullmatch(
            rf"web: healthy: GET http://127\.0\.0\.1:{port}/healthz/ answered 200 in \d+ ms\n", result.stdout
        ), result.stdout
        ready = run_manage(
            "prodserver", "--healthcheck", "--ready", "web", processes=processes, settings=SETTINGS
        )
        assert ready.returncode == 0, ready.stderr
        assert re.fullmatch(
            rf"web: healthy: GET http://127\.0\.0\.1:{port}/readyz/ answered 200 in \d+ ms\n", ready.stdout
        ), ready.stdout
        assert child.stop() == 0, child.output

    result = run_manage("prodserver", "--healthcheck", processes=processes, settings=SETTINGS)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"CommandError: web: unhealthy: GET http://127.0.0.1:{port}/healthz/ failed: Connection refused.\n"
    )


def test_port_from_the_platform_contract_is_probed_on_loopback() -> None:
    """With PORT set and no address in ARGS the server binds 0.0.0.0:$PORT; the probe uses loopback."""
    port = free_port()
    with prodserver("web", processes=web("gunicorn", port), settings=SETTINGS) as child:
        child.wait_http(f"http://127.0.0.1:{port}/healthz/")
        contract = {"web": {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"}}
        result = run_manage(
            "prodserver",
            "--healthcheck",
            "web",
            processes=contract,
            settings=SETTINGS,
            env={"PORT": str(port)},
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(
            f"web: healthy: GET http://127.0.0.1:{port}/healthz/ answered 200 in "
        )


def test_a_server_without_the_probes_is_unhealthy_with_a_hint() -> None:
    port = free_port()
    processes = web("gunicorn", port)
    bare = {"ROOT_URLCONF": "testproject.urls"}
    with prodserver("web", processes=processes, settings=bare) as child:
        child.wait_http(f"http://127.0.0.1:{port}/")
        result = run_manage("prodserver", "--healthcheck", "web", processes=processes, settings=bare)
    assert result.returncode == 1
    assert result.stderr == (
        f"CommandError: web: unhealthy: GET http://127.0.0.1:{port}/healthz/ answered 404; "
        'are the probes wired? Add path("", include("django_prodserver.urls")) to your URLconf.\n'
    )


def test_a_process_that_is_not_a_web_server_is_refused() -> None:
    processes = {"worker": {"BACKEND": "testproject.probes.NotAWebServer"}}
    result = run_manage("prodserver", "--healthcheck", "worker", processes=processes)
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: worker: --healthcheck probes web servers and workers that record a heartbeat, "
        "and 'worker' is neither; name another process, e.g. 'prodserver --healthcheck web'.\n"
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for a public name, as a real site would have: not 127.0.0.1."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"), "shop.example.com")


def test_a_tls_server_is_probed_over_https(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    port = free_port()
    processes = web("uvicorn", port)
    processes["web"]["ARGS"].update({"ssl-certfile": str(cert), "ssl-keyfile": str(key)})
    with prodserver("web", processes=processes, settings=SETTINGS) as child:
        child.wait_for_line("Uvicorn running on https://")
        result = run_manage("prodserver", "--healthcheck", "web", processes=processes, settings=SETTINGS)
        assert result.returncode == 0, result.stderr + child.output
        assert result.stdout.startswith(
            f"web: healthy: GET https://127.0.0.1:{port}/healthz/ answered 200 in "
        )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, ("127.0.0.1", 8080, False)),  # waitress' own default: 0.0.0.0:8080
        ({"host": "127.0.0.2"}, ("127.0.0.2", 8080, False)),
        ({"listen": "[::]:9001"}, ("::1", 9001, False)),
    ],
)
def test_waitress_address_follows_its_own_defaults(
    args: dict[str, str], expected: tuple[str, int, bool]
) -> None:
    from django_prodserver.healthcheck import target

    assert target(loaded("waitress", args)) == expected


def loaded(backend: str, args: dict[str, str]) -> BaseProcessBackend:
    """The backend of a process ``web`` with these ARGS, in this process."""
    from django_prodserver.conf import parse_process
    from django_prodserver.loading import load_backend

    return load_backend(parse_process("web", {"BACKEND": backend, "ARGS": args}))


def test_a_server_on_a_unix_socket_only_is_refused_with_what_to_do() -> None:
    from django_prodserver.healthcheck import Unhealthy, target

    with pytest.raises(Unhealthy) as caught:
        target(loaded("gunicorn", {"bind": "unix:/run/prodserver-test.sock"}))
    assert str(caught.value) == (
        "web: the process listens on no TCP address prodserver can find (a Unix socket or a file "
        "descriptor); probe it with the tool that reaches that socket."
    )


def test_a_server_that_accepts_but_never_answers_is_unhealthy_after_the_timeout() -> None:
    from django_prodserver.healthcheck import Unhealthy, probe

    # Listening, never accepting: the kernel completes the connection, nobody answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(Unhealthy) as caught:
            probe(loaded("gunicorn", {"bind": f"127.0.0.1:{port}"}), timeout=0.3)
    assert str(caught.value) == (
        f"web: unhealthy: GET http://127.0.0.1:{port}/healthz/ got no answer within 0.3 s."
    )

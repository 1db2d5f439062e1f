"""An ASGI request under ``prodserver web`` sees the context variables it sees under the server's CLI.

Every request task inherits the context the server was started in, and asgiref copies and
restores each inherited variable at every switch between async and sync code (about 28 times
per Django request). What ``manage.py`` sets on its way to the start (Django's script prefix,
the language and caches the system checks touch, prodserver's own check scope) and what the
gateway sets resolving the probe paths must therefore stay out of it: six such variables cost
about 10 % more instructions per request (benchmarks/README.md).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from harness import Child, child_env, free_port, prodserver

B = "django_prodserver.backends"
SETTINGS = {"ROOT_URLCONF": "testproject.probes"}
APP = "testproject.asgi:application"
SERVERS: dict[str, tuple[str, list[str]]] = {
    "uvicorn": (f"{B}.uvicorn.UvicornServer", ["-m", "uvicorn"]),
    "granian": (f"{B}.granian.GranianASGIServer", ["-m", "granian", "--interface=asgi"]),
}


def names_seen(child: Child, port: int) -> Any:
    response = child.wait_http(f"http://127.0.0.1:{port}/context/", headers={"Host": "127.0.0.1"})
    assert response.status == 200, child.output
    return response.json()["names"]


@pytest.mark.parametrize("server", list(SERVERS))
def test_a_request_inherits_nothing_the_command_set(server: str) -> None:
    backend, cli = SERVERS[server]
    port = free_port()
    own = Child(
        ["--host=127.0.0.1", f"--port={port}", APP],
        child_env(settings=SETTINGS),
        command=[sys.executable, *cli],
    )
    try:
        expected = names_seen(own, port)
    finally:
        own.kill_group()
    port = free_port()
    processes = {"web": {"BACKEND": backend, "ARGS": {"host": "127.0.0.1", "port": port, "workers": 1}}}
    with prodserver("web", processes=processes, settings=SETTINGS) as child:
        assert names_seen(child, port) == expected, child.output

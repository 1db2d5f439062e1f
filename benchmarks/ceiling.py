"""The app's in-process ceiling: requests/s, and CPU time per request, when Django's handler is
called directly, with no server and no socket. The web benchmark runs it on the server's core
and reports every server as a share of it (100 % = the server costs nothing).

    .venv/bin/python benchmarks/ceiling.py wsgi|asgi [--seconds 3]   # prints {"rps": …, "cpu_us": …}

CPU per request (this process' CPU time, every thread, over the requests) moves little when
other work shares the core; requests/s moves with it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproject.settings")


def wsgi(seconds: float) -> int:
    from benchproject.wsgi import application

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[..., Any]:
        if not status.startswith("200"):
            raise RuntimeError(f"the app answered {status}")
        return lambda data: None

    def environ() -> dict[str, Any]:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }

    count, until = 0, time.monotonic() + seconds
    while time.monotonic() < until:
        body: Iterable[bytes] = application(environ(), start_response)
        b"".join(body)
        body.close()  # type: ignore[attr-defined]
        count += 1
    return count


def asgi(seconds: float) -> int:
    from benchproject.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    def receiver() -> Callable[[], Any]:
        messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client never disconnects: Django cancels this
            raise AssertionError("unreachable")

        return receive

    async def send(message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"the app answered {message['status']}")

    async def loop() -> int:
        count, until = 0, time.monotonic() + seconds
        while time.monotonic() < until:
            await application(dict(scope), receiver(), send)
            count += 1
        return count

    return asyncio.run(loop())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("interface", choices=("wsgi", "asgi"))
    parser.add_argument("--seconds", type=float, default=3)
    options = parser.parse_args()
    measure = wsgi if options.interface == "wsgi" else asgi
    measure(min(0.5, options.seconds))  # warm-up: first requests build the middleware chain
    cpu = time.process_time()
    count = measure(options.seconds)
    cpu = time.process_time() - cpu
    print(json.dumps({"rps": count / options.seconds, "cpu_us": 1e6 * cpu / count}))


if __name__ == "__main__":
    main()

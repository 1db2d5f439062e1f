"""Every web-server configuration the spec prints, started for real and driven over HTTP.

Each case (see spec_examples.py) runs ``manage.py prodserver web`` with the spec's ARGS,
changed only to listen on 127.0.0.1 and a free port, and in that one server start checks:
the index page, Django admin's login redirect (a database-backed app), on ASGI backends a
streamed response and an async view, forwarded headers where the case is about them, the
access log, and finally that SIGTERM ends the server with status 0 and leaves no process of
its group behind. The backends' own example configurations also stop with a request in
flight, which must still complete.
"""

from __future__ import annotations

import re
import signal
import ssl
from pathlib import Path

import httpx
import pytest

from contract import GRANIAN_ASGI, GRANIAN_WSGI, WebBackend, wait_workers
from harness import Child, exits_cleanly, free_port, prodserver, self_signed_certificate, wait_until
from live_checks import sigterm_with_request_in_flight, websocket_echo
from spec_examples import CASES, Case

pytestmark = pytest.mark.lowest  # also run by scripts/test-lowest

INDEX_BODY = "hello from testproject"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
STREAM_BODY = "chunk 0\nchunk 1\nchunk 2\n"
FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
# Gunicorn, uvicorn and granian all quote the request line in their access-log formats.
ACCESS_LOG_LINE = re.compile(r'"GET / HTTP/[0-9.]+" 200')


def client(*, http1: bool = True, http2: bool = False, verify: ssl.SSLContext | bool = False) -> httpx.Client:
    # http1=False with http2=True over cleartext is HTTP/2 "prior knowledge": the client
    # opens with the h2 connection preface instead of an HTTP/1.1 request.
    return httpx.Client(http1=http1, http2=http2, verify=verify, timeout=10, follow_redirects=False)


def wait_ready(child: Child, http: httpx.Client, url: str, timeout: float = 60) -> httpx.Response:
    """Poll ``url`` until the server answers (any status) or the child exits.

    ``Child.wait_http`` speaks HTTP/1.1 only: this asks with the case's own client, which may
    speak HTTP/2 from the first byte.
    """
    errors: list[Exception] = []

    def answered() -> httpx.Response | None:
        if child.proc.poll() is not None:
            raise child.fail(f"exited with {child.wait(5)} before serving {url}")
        try:
            return http.get(url)
        except httpx.TransportError as exc:
            errors.append(exc)
            return None

    return wait_until(
        lambda: f"{url} not served (last error: {errors[-1] if errors else None!r})",
        answered,
        child,
        timeout,
        interval=0.1,
    )


def expect(child: Child, response: httpx.Response, status: int, body: str | None = None) -> None:
    ok = response.status_code == status and (body is None or response.text == body)
    if not ok:
        raise child.fail(
            f"GET {response.request.url} over {response.http_version}: expected {status} {body!r}, "
            f"got {response.status_code} {response.text[:400]!r}"
        )


def check_site(child: Child, http: httpx.Client, base: str, backend: WebBackend) -> None:
    expect(child, http.get(base + "/"), 200, INDEX_BODY)

    admin = http.get(base + "/admin/")
    expect(child, admin, 302)
    if admin.headers.get("location") != ADMIN_LOGIN:
        raise child.fail(f"/admin/ redirected to {admin.headers.get('location')!r}, not {ADMIN_LOGIN!r}")
    login = http.get(base + ADMIN_LOGIN)
    expect(child, login, 200)
    if 'id="login-form"' not in login.text:
        raise child.fail(f"{ADMIN_LOGIN} is not Django admin's login page: {login.text[:400]!r}")

    if backend.asgi:
        stream = http.get(base + "/stream/")
        expect(child, stream, 200, STREAM_BODY)
        # A streamed response has no length up front; one with Content-Length was buffered.
        if "content-length" in stream.headers:
            raise child.fail(f"/stream/ was buffered: {dict(stream.headers)}")
        expect(child, http.get(base + "/async/"), 200, "async hello")


def check_forwarded(child: Child, base: str, source: str, trusted: bool) -> None:
    """Send forwarded headers from ``source`` (a loopback address) and see what Django saw."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=10) as http:
        seen = http.get(base + "/whoami/", headers=FORWARDED)
    expect(child, seen, 200)
    if trusted:
        wanted = {"remote_addr": "203.0.113.9", "secure": True}
    else:
        wanted = {"remote_addr": source, "secure": False}
    got = {key: seen.json()[key] for key in wanted}
    if got != wanted:
        raise child.fail(f"with {FORWARDED} from {source} Django saw {got}, expected {wanted}")


def stop_cleanly(child: Child) -> None:
    """SIGTERM → exit status 0, then every process of the group gone (workers included)."""
    child.send(signal.SIGTERM)
    exits_cleanly(child)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_spec_configuration_serves_and_stops(case: Case, migrated_sqlite: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = {"web": {"BACKEND": case.backend.path, "ARGS": case.localize(port)}}
    # --http=2 answers HTTP/2 only; see test_granian_http2_refuses_http11 for what HTTP/1.1 gets.
    http1, http2 = (False, True) if case.http2_only else (True, False)
    with prodserver("web", processes=processes, db=migrated_sqlite, env=dict(case.env)) as child:
        with client(http1=http1, http2=http2) as http:
            first = wait_ready(child, http, base + "/")
            if case.http2_only and first.http_version != "HTTP/2":
                raise child.fail(f"served over {first.http_version}, expected HTTP/2")
            check_site(child, http, base, case.backend)
            # The websocket client speaks HTTP/1.1 only (WebSockets over HTTP/2 is RFC 8441).
            if case.backend.asgi and not case.http2_only:
                websocket_echo(child, f"ws://127.0.0.1:{port}/ws/echo/")
            if case.workers and Path("/proc/self/stat").exists():
                wait_workers(case.backend, child, case.workers)
            for source, trusted in case.forwarded.items():
                check_forwarded(child, base, source, trusted)
        if case.stop_in_flight:
            # The in-flight request speaks HTTP/1.1: no case both stops in flight and is h2-only.
            assert not case.http2_only
            sigterm_with_request_in_flight(child, base)
        else:
            stop_cleanly(child)
        logged = bool(ACCESS_LOG_LINE.search(child.output))
        if case.logs_access is not None and logged != case.logs_access:
            raise child.fail(f"{case.source}: access log expected {'on' if case.logs_access else 'off'}")


def test_granian_http2_refuses_http11(migrated_sqlite: str) -> None:
    """Granian's ``"http": "2"`` serves HTTP/2 only; an HTTP/1.1 client gets no response.

    Over cleartext there is no TLS ALPN in which client and server agree on a protocol, and
    granian does not implement the HTTP/1.1 ``Upgrade: h2c`` handshake. A server in h2-only
    mode therefore reads ``GET / HTTP/1.1`` as a broken HTTP/2 connection preface and closes
    the connection. Only clients that speak HTTP/2 from the first byte ("prior knowledge",
    e.g. ``curl --http2-prior-knowledge``) are served; a proxy that talks HTTP/1.1 to its
    upstream (nginx's default) cannot use this setting.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = {"http": "2", "workers": "1", "address": "127.0.0.1", "port": str(port)}
    processes = {"web": {"BACKEND": GRANIAN_WSGI.path, "ARGS": args}}
    with prodserver("web", processes=processes, db=migrated_sqlite) as child:
        with client(http1=False, http2=True) as h2:
            expect(child, wait_ready(child, h2, base + "/"), 200, INDEX_BODY)
        with client() as h11, pytest.raises(httpx.RemoteProtocolError):
            h11.get(base + "/")
        stop_cleanly(child)


# --- TLS: the spec's ssl-cert / ssl-key rows with a real certificate ------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key in PKCS#8 (the only key format granian reads)."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("backend", [GRANIAN_ASGI, GRANIAN_WSGI], ids=lambda b: b.id)
def test_granian_tls_with_spec_ssl_keys(
    backend: WebBackend, self_signed: tuple[Path, Path], migrated_sqlite: str
) -> None:
    cert, key = self_signed
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    # The spec's Granian row names; granian itself calls them --ssl-certificate/--ssl-keyfile.
    args = {
        "address": "127.0.0.1",
        "port": str(port),
        "workers": "1",
        "ssl-cert": str(cert),
        "ssl-key": str(key),
    }
    trust = ssl.create_default_context(cafile=str(cert))
    with prodserver(
        "web", processes={"web": {"BACKEND": backend.path, "ARGS": args}}, db=migrated_sqlite
    ) as child:
        with client(verify=trust) as https:
            first = wait_ready(child, https, base + "/")
            expect(child, first, 200, INDEX_BODY)
            check_site(child, https, base, backend)
            if backend.asgi:
                websocket_echo(child, f"wss://127.0.0.1:{port}/ws/echo/", tls=trust)
            # Django sees the TLS connection itself, no proxy header involved.
            if https.get(base + "/whoami/").json()["secure"] is not True:
                raise child.fail("Django did not see the request as secure over TLS")
        # With TLS, HTTP/2 is negotiated in the handshake (ALPN) under granian's default "auto".
        with client(http2=True, verify=trust) as alpn:
            negotiated = alpn.get(base + "/")
            expect(child, negotiated, 200, INDEX_BODY)
            if negotiated.http_version != "HTTP/2":
                raise child.fail(f"ALPN negotiated {negotiated.http_version}, expected HTTP/2")
        # The client really verifies: without our certificate as trust anchor it refuses.
        refused = pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED")
        with client(verify=ssl.create_default_context()) as untrusting, refused:
            untrusting.get(base + "/")
        stop_cleanly(child)


def test_every_web_backend_is_stopped_with_a_request_in_flight() -> None:
    """Guards the case list: each of the six spec web backends has its in-flight SIGTERM case."""
    covered = {case.backend.id for case in CASES if case.stop_in_flight}
    assert covered == {
        "gunicorn",
        "uvicorn",
        "uvicorn-wsgi",
        "granian-asgi",
        "granian-wsgi",
        "waitress",
    }

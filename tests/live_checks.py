"""What the Hypercorn, Daphne, uWSGI and Gunicorn+Uvicorn tests ask of a running server.

Each helper talks to the real server over loopback and, on failure, raises the child's
output with the reason (``Child.fail``).
"""

from __future__ import annotations

import datetime
import ipaddress
import signal
import threading
import time
from pathlib import Path
from typing import Any

from harness import Child, http_get, process_group_alive


def page(child: Child, url: str, status: int = 200, body: str | None = None) -> str:
    response = http_get(url, timeout=10)
    if response.status != status or (body is not None and response.text != body):
        raise child.fail(f"GET {url}: {response.status} {response.text[:200]!r}, expected {status} {body!r}")
    return response.text


def streamed_lines(child: Child, url: str) -> None:
    """The async streaming view arrives whole, in order."""
    page(child, url, body="chunk 0\nchunk 1\nchunk 2\n")


def websocket_echo(child: Child, url: str) -> None:
    from websockets.sync.client import connect

    try:
        with connect(url, open_timeout=10, close_timeout=5) as ws:
            ws.send("hello")
            answer = ws.recv(timeout=10)
    except Exception as exc:
        raise child.fail(f"websocket {url} failed: {exc!r}") from exc
    if answer != "echo: hello":
        raise child.fail(f"websocket {url} answered {answer!r}")


def exits_cleanly(child: Child, timeout: float = 40) -> None:
    """Exit status 0, then no process of the server's group left (workers included)."""
    code = child.wait(timeout)
    if code != 0:
        raise child.fail(f"exit status {code} after SIGTERM, expected 0")
    deadline = time.monotonic() + 15
    while process_group_alive(child.pid):
        if time.monotonic() > deadline:
            raise child.fail("processes of the server's group are still running after it exited")
        time.sleep(0.05)


def sigterm_with_request_in_flight(child: Child, base: str, seconds: float = 2) -> None:
    """SIGTERM while /slow/ sleeps in the app: the request completes, then the server exits 0."""
    outcome: dict[str, Any] = {}

    def request() -> None:
        try:
            outcome["response"] = http_get(f"{base}/slow/?seconds={seconds}", timeout=30)
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    child.wait_for_line("slow view started", timeout=20)
    child.send(signal.SIGTERM)
    thread.join(40)
    response = outcome.get("response")
    if response is None:
        raise child.fail(f"the in-flight request failed after SIGTERM: {outcome.get('error')!r}")
    if response.status != 200 or response.text != f"slept {float(seconds)}":
        raise child.fail(f"the in-flight request got {response.status} {response.text!r}")
    exits_cleanly(child)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day (the client trusts it as its CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path

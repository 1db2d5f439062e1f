"""Run the real ``manage.py prodserver`` in a subprocess and talk to it over loopback.

Readiness is polled until a deadline (never a fixed sleep); on failure the child's output
is part of the assertion message. Every child runs in its own session and its whole
process group is killed at teardown, so no test leaves a server behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

TESTS_DIR = Path(__file__).resolve().parent
MANAGE = TESTS_DIR / "manage.py"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
BROKER_URL = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
T = TypeVar("T")


def _ports_of_this_worker() -> Iterator[int]:
    """Ports no one else hands out: below the kernel's ephemeral range, one slice per xdist worker.

    Asking the kernel for port 0 is racy here: the port it returns comes from the ephemeral range,
    which every outgoing connection (to Redis, PostgreSQL, another test's server) also draws from,
    so between the probe and the server's own bind a client socket may take it ("address already
    in use" once in a few thousand tests). Ports below that range are given only by this function,
    and each worker owns its slice, so only a server a test started itself can hold one. (A
    second run at the same time may pick the same port; the bind in free_port() passes over a
    port that is held, and the servers' own bind reports the rest.)
    """
    try:
        first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first_ephemeral = 32768
    base = 10000
    slices = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), 1)
    width = (min(first_ephemeral, 65536) - base) // slices
    if width < 100:
        while True:
            yield 0
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = base + (int(worker) if worker.isdigit() else 0) % slices * width
    offset = os.getpid() % width  # a rerun soon after does not meet the last run's TIME_WAIT
    while True:
        offset = (offset + 1) % width
        yield start + offset


_PORTS = _ports_of_this_worker()


def free_port() -> int:
    """A loopback port that nothing listens on or holds (a bind without SO_REUSEADDR proves it)."""
    for _ in range(1000):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", next(_PORTS)))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free loopback port below the ephemeral range")


def child_env(
    processes: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    db: str | None = None,
) -> dict[str, str]:
    base = {
        k: v for k, v in os.environ.items() if k not in ("PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS")
    }
    base.update(
        {
            "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), base.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "DJANGO_SETTINGS_MODULE": "testproject.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if processes is not None:
        base["PRODSERVER_TEST_PROCESSES"] = json.dumps(processes)
    if settings:
        base["PRODSERVER_TEST_SETTINGS"] = json.dumps(settings)
    if db:
        base["PRODSERVER_TEST_DB"] = db
    base.update(env or {})
    return base


def run_manage(*args: str, timeout: float = 60, **env_kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a manage.py command to completion (for errors, --list, --dry-run, check)."""
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(**env_kw),
        cwd=str(TESTS_DIR),
        check=False,
    )


class Child:
    """A running ``manage.py …`` whose combined output is collected line by line."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        cwd: Path = TESTS_DIR,
        manage: Path = MANAGE,
        command: Sequence[str] | None = None,
    ) -> None:
        """``command`` replaces ``python manage.py`` as what runs ``args``, e.g. ``python -m django``."""
        self.args = args
        self.proc = subprocess.Popen(
            [*(command or (sys.executable, str(manage))), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=str(cwd),
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        # kill_group() closes the pipe under a reader that a leftover process kept waiting.
        with contextlib.suppress(ValueError, OSError):
            for raw in self.proc.stdout:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def fail(self, why: str) -> AssertionError:
        return AssertionError(f"{why}\n--- output of manage.py {' '.join(self.args)} ---\n{self.output}")

    def wait_for_line(self, text: str, timeout: float = 30) -> str:
        def printed() -> str | None:
            line = next((line for line in list(self.lines) if text in line), None)
            if line is None and self.proc.poll() is not None:
                self._reader.join(2)
                line = next((line for line in self.lines if text in line), None)
                if line is None:
                    raise self.fail(f"exited with {self.proc.returncode} before printing {text!r}")
            return line

        return wait_until(f"did not print {text!r}", printed, self, timeout)

    def wait_http(self, url: str, timeout: float = 40, **kw: Any) -> Response:
        errors: list[Exception] = []

        def served() -> Response | None:
            if self.proc.poll() is not None:
                self._reader.join(2)
                raise self.fail(f"exited with {self.proc.returncode} before serving {url}")
            try:
                return http_get(url, timeout=5, **kw)
            except (OSError, urllib.error.URLError) as exc:
                errors.append(exc)
                return None

        return wait_until(
            lambda: f"{url} not served (last error: {errors[-1] if errors else None!r})",
            served,
            self,
            timeout,
            interval=0.1,
        )

    def send(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)

    def wait(self, timeout: float = 30) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise self.fail(f"still running {timeout}s later") from None
        self._reader.join(5)
        if self._reader.is_alive():
            # The pipe is still open: a process it started outlived it (a leak, as honcho's
            # servers once were), and the output read so far may be missing its last lines.
            raise self.fail(f"exited ({code}), but a process it started still holds its output 5s later")
        return code

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.send(sig)
        return self.wait(timeout)

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self._reader.join(5)  # the group is gone: the pipe ends, unless a leftover holds it
        if self.proc.stdout:
            self.proc.stdout.close()


class Response:
    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http_get(url: str, timeout: float = 10, headers: Mapping[str, str] | None = None) -> Response:
    """One GET that returns any status (4xx/5xx included) and does not follow redirects."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return Response(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Response(exc.code, dict(exc.headers), exc.read())


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def process_group(pgid: int) -> list[int]:
    """The processes of a group (Linux' /proc), its leader first."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.getpgid(int(entry)) == pgid:
                    members.append(int(entry))
    return sorted(members, key=lambda pid: pid != pgid)


def wait_until(
    what: str | Callable[[], str],
    condition: Callable[[], T | None],
    child: Child | None = None,
    timeout: float = 20,
    interval: float = 0.05,
) -> T:
    """Poll ``condition`` until it returns a true value, and return that value.

    The one deadline loop of the suite. Past the deadline, fail with ``what`` (a callable
    is asked only then, so it can name the last thing seen) and the child's output.
    ``condition`` may raise to fail early, e.g. ``child.fail(...)`` once the child exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            message = f"{what() if callable(what) else what}: not within {timeout}s"
            raise child.fail(message) if child is not None else AssertionError(message)
        time.sleep(interval)


#: Granian's main process exits 1 when a stop signal that reached every process (a platform's)
#: lets an idle worker exit before the main process has handled its own: its watcher thread
#: counts the worker as lost. Requests in flight still finish; an upstream race.
GRANIAN_WORKER_RACE = "Unexpected exit from worker-"


def exits_cleanly(child: Child, timeout: float = 40, *, tolerate: str | None = None) -> None:
    """Exit status 0, then no process of the server's group left (workers included).

    ``tolerate``: a line of output that makes exit status 1 acceptable too (a known race of
    the program's own, such as :data:`GRANIAN_WORKER_RACE`)."""
    code = child.wait(timeout)
    if code == 1 and tolerate is not None and tolerate in child.output:
        code = 0
    if code != 0:
        raise child.fail(f"exit status {code} after SIGTERM, expected 0")
    wait_until(
        f"process group {child.pid} still has processes after the server exited",
        lambda: not process_group_alive(child.pid),
        child,
        15,
    )


def self_signed_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for ``host`` (an IP address or a DNS name), valid for a day, and its key.

    The key is PKCS#8, the only format granian reads. The extensions are those Python's
    strict verification asks of a leaf, so a client can trust the certificate itself as
    its CA (``ssl.create_default_context(cafile=cert)``).
    """
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    try:
        alt_name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt_name = x509.DNSName(host)
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
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


@contextlib.contextmanager
def prodserver(
    *names: str,
    processes: Mapping[str, Any] | None = None,
    extra: tuple[str, ...] = (),
    settings: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    db: str | None = None,
    cwd: Path = TESTS_DIR,
    command: Sequence[str] | None = None,
) -> Iterator[Child]:
    """``manage.py prodserver NAMES… EXTRA…``, its group killed when the block ends.

    ``cwd`` is where it runs; ``command`` replaces ``python tests/manage.py`` (e.g. another
    project's ``manage.py``, or ``python -m django``).
    """
    environment = child_env(processes, settings, env, db)
    child = Child(["prodserver", *names, *extra], environment, cwd, command=command)
    try:
        yield child
    finally:
        child.kill_group()

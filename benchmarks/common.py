"""What every web benchmark does: start a side pinned to its core, wait for its first 200,
read its process tree's CPU time and memory from /proc, stop it, and turn pairs into ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from sides import Side

HERE = Path(__file__).resolve().parent
MANAGE = HERE / "manage.py"
BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")
#: The platform contract's variables would change what either side runs.
PLATFORM_VARIABLES = ("PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS")
#: Each running side's stderr, by PID, shown when it fails.
_errors: dict[int, IO[bytes]] = {}


@dataclass(frozen=True)
class Cores:
    """The core the server runs on and the one the load generator runs on (None: not pinned)."""

    server: set[int] | None
    client: set[int] | None

    @classmethod
    def pick(cls) -> Cores:
        available = sorted(os.sched_getaffinity(0))
        if len(available) < 2:
            return cls(None, None)
        return cls({available[0]}, {available[1]})


def compile_sources(*packages: Path) -> None:
    """Write the bytecode of django-prodserver and the bench project, as ``pip install`` does.

    A shell with ``PYTHONDONTWRITEBYTECODE=1`` (CI's, this machine's) otherwise makes every start
    of a checkout compile the whole package from source, about a tenth of a start, which an
    installed django-prodserver never pays and the CLI side (site-packages) never pays either.
    """
    import compileall

    import django_prodserver

    for path in (Path(django_prodserver.__file__).parent, HERE / "benchproject", *packages):
        compileall.compile_dir(path, quiet=1)


def both_sides(
    side: Side, port: int, extra: Sequence[str] = ()
) -> list[tuple[str, list[str], dict[str, str]]]:
    """``manage.py prodserver web`` (with ``extra``) and the server's own CLI, one worker on ``port``:
    each side's label, argv and environment."""
    return [
        ("prodserver", [*side.prodserver_argv(), *extra], env(side.processes(port, 1))),
        ("cli", side.cli_argv(port, 1), env()),
    ]


class CallgrindPart(NamedTuple):
    """A callgrind file's header: which part of the process it holds, what ended that part
    (``--dump-before=NAME``, or ``Program termination``), and the instructions in it."""

    number: int
    trigger: str
    instructions: int


def callgrind_part(path: Path) -> CallgrindPart | None:
    """The header of one file callgrind wrote; None when it wrote no counts (a process killed
    before it could)."""
    number, trigger = 0, ""
    with path.open() as lines:
        for line in lines:
            key, _, value = line.partition(":")
            if key == "part":
                number = int(value)
            elif key == "desc" and value.strip().startswith("Trigger:"):
                trigger = value.split("Trigger:", 1)[1].strip()
            elif key in ("summary", "totals"):
                return CallgrindPart(number, trigger, int(value.split()[0]))
    return None


def count_ratio(name: str, counts: dict[str, float], unit: str, scale: float = 1) -> dict[str, float]:
    """prodserver ÷ CLI of one backend's count: printed as soon as it is measured, returned for JSON."""
    ratio = counts["prodserver"] / counts["cli"]
    print(
        f"{name:<14} prodserver {counts['prodserver'] / scale:>12,.1f}  cli {counts['cli'] / scale:>12,.1f}"
        f"  {unit}  ratio {ratio:.3f}",
        flush=True,
    )
    return {**counts, "ratio": ratio}


def output_options(parser: argparse.ArgumentParser) -> None:
    """``--json FILE`` and ``--plot [DIR]``, the same for every benchmark that keeps results."""
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--plot",
        nargs="?",
        const=HERE.parent / "docs" / "benchmarks",
        type=Path,
        help="write PNG charts into DIR (default: docs/benchmarks, which the docs embed)",
    )


def keep(payload: Mapping[str, object], options: argparse.Namespace, chart: str) -> None:
    """``--json``: the raw results; ``--plot``: the charts ``plot.<chart>`` draws from them."""
    if options.json:
        options.json.write_text(json.dumps(payload, indent=2))
    if options.plot:
        import plot  # matplotlib (the dev extra), only when charts are asked for

        for path in getattr(plot, chart)(payload, options.plot):
            print(f"wrote {path}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(processes: dict[str, object] | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in PLATFORM_VARIABLES}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), base.get("PYTHONPATH", "")]))
    base["DJANGO_SETTINGS_MODULE"] = "benchproject.settings"
    base["PATH"] = os.pathsep.join([str(BIN), base.get("PATH", "")])
    if processes is not None:
        base["BENCH_PROCESSES"] = json.dumps(processes)
    return base


def spawn(
    argv: Sequence[str], environ: dict[str, str], cores: Cores, stdout: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session on the server core; this process stays on the client's.

    The child inherits the affinity this process has when it forks, and passes it on to every
    worker it forks or spawns, so the whole server tree stays on its core.
    """
    # stderr to a file, not a pipe nobody reads while the server runs: a full pipe would stall
    # a server that logs there. Output to /dev/null costs a write() per line, as a pipe to a
    # log collector that keeps up does.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
    if cores.server is not None:
        os.sched_setaffinity(0, cores.server)
    try:
        proc = subprocess.Popen(
            list(argv),
            env=environ,
            cwd=HERE,
            stdout=stdout,
            stderr=errors,
            start_new_session=True,
        )
        _errors[proc.pid] = errors
        return proc
    finally:
        if cores.client is not None:
            os.sched_setaffinity(0, cores.client)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    _errors.pop(proc.pid).close()


def stderr_of(proc: subprocess.Popen[bytes]) -> str:
    errors = _errors[proc.pid]
    errors.seek(0)
    return errors.read().decode(errors="replace").strip()


@contextmanager
def running(argv: Sequence[str], environ: dict[str, str], cores: Cores) -> Iterator[subprocess.Popen[bytes]]:
    proc = spawn(argv, environ, cores)
    try:
        yield proc
    finally:
        stop(proc)


def get(port: int, path: str = "/", timeout: float = 5) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(
    port: int, proc: subprocess.Popen[bytes], timeout: float = 60, since: float | None = None
) -> float:
    """Seconds from ``since`` (a ``time.monotonic()`` taken before the spawn) to the first 200."""
    start = time.monotonic() if since is None else since
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before answering: {stderr_of(proc)[-2000:]}")
        try:
            if get(port, timeout=2)[0] == 200:
                return time.monotonic() - start
        except OSError:
            time.sleep(0.002)
    raise RuntimeError(f"no 200 from port {port} within {timeout}s")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes (those that exited in between count as 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def pss_kib(pids: Sequence[int]) -> int:
    """Proportional set size of these processes: each shared page split between its sharers,
    so a pre-forked worker's pages shared with its master are not counted twice, as RSS would.
    """
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def ratios(pairs: Sequence[tuple[float, float]]) -> tuple[list[float], float]:
    """Each pair's A/B and their median: the median of ratios, not the ratio of medians, so a
    slow spell on the shared machine that hit one pair moves one ratio, not both columns."""
    each = [a / b for a, b in pairs if b]
    return each, statistics.median(each) if each else float("nan")


def versions(*names: str) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} x {model}; Linux {platform.release()}; load average {load} at start"

"""The supervisor vs honcho running the same children: idle CPU and output throughput, as ratios.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/supervisor_overhead.py [--idle-seconds 60] [--lines 200000] [--rounds 3]

Idle CPU: ``prodserver a b c`` and ``honcho start`` with a Procfile of the same three
children (``manage.py prodserver NAME``, each printing a few lines and then waiting) run *at
the same time* for ``--idle-seconds``; we read the CPU time of the supervisor process itself,
and of honcho's main process plus the helper process it forks per child, from /proc. The
children's own CPU is not counted on either side.

Throughput: one child prints ``--lines`` lines as fast as it can and exits; we read the
supervisor's (or honcho's) stdout from a pipe and time first to last line. Runs alternate
(ours, honcho, ours, …) so drift on a shared machine hits both alike; the median is reported.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))

from harness import child_env  # noqa: E402

MANAGE = TESTS / "manage.py"
HONCHO = Path(sys.executable).parent / "honcho"
TICKS = os.sysconf("SC_CLK_TCK")


def chatty(*args: str, **entry: object) -> dict[str, object]:
    return {"BACKEND": "testproject.chatty.Chatty", "ARGS": list(args), **entry}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def procfile(names: list[str]) -> str:
    path = Path(tempfile.mkdtemp()) / "Procfile"
    path.write_text(
        "".join(f"{name}: {sys.executable} {MANAGE} prodserver {name} --skip-checks\n" for name in names)
    )
    return str(path)


def start_ours(names: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(MANAGE), "prodserver", *names],
        env=env,
        cwd=TESTS,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_honcho(names: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(HONCHO), "-f", procfile(names), "-d", str(TESTS), "--no-colour", "start"],
        env=env,
        cwd=TESTS,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.stdout:
        proc.stdout.close()


def read_until(proc: subprocess.Popen[bytes], needle: bytes, count: int, timeout: float = 60) -> None:
    """Consume output until ``needle`` has been seen ``count`` times (the children are ready)."""
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + timeout
    while seen < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready within {timeout}s")
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("exited before its children were ready")
        seen += needle in line


def idle_cpu(seconds: float) -> tuple[float, float]:
    names = ["a", "b", "c"]
    env = child_env({name: chatty() for name in names})
    ours, honcho = start_ours(names, env), start_honcho(names, env)
    try:
        for proc in (ours, honcho):
            read_until(proc, b"ready pid=", len(names))
        # Readiness is printed; drain nothing more (idle children print nothing).
        honcho_pids = [honcho.pid, *children_of(honcho.pid)]
        before = cpu_seconds(ours.pid), sum(cpu_seconds(p) for p in honcho_pids)
        time.sleep(seconds)
        after = cpu_seconds(ours.pid), sum(cpu_seconds(p) for p in honcho_pids)
        return after[0] - before[0], after[1] - before[1]
    finally:
        stop(ours)
        stop(honcho)


def throughput(start: object, lines: int) -> float:
    env = child_env({"flood": chatty("--lines=0", f"--flood={lines}", "--exit=0", RESTART="never")})
    proc = start(["flood"], env)  # type: ignore[operator]
    assert proc.stdout is not None
    first = last = 0.0
    seen = 0
    try:
        for line in proc.stdout:
            if b"flood flood " in line:
                now = time.perf_counter()
                first = first or now
                last = now
                seen += 1
                if seen == lines:
                    break
    finally:
        stop(proc)
    if seen != lines:
        raise RuntimeError(f"saw {seen} of {lines} lines")
    return lines / (last - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    if not HONCHO.exists():
        sys.exit("honcho is not installed: pip install -e '.[dev]'")

    ours_rate, honcho_rate = [], []
    for _ in range(options.rounds):
        ours_rate.append(throughput(start_ours, options.lines))
        honcho_rate.append(throughput(start_honcho, options.lines))
    ours_tp, honcho_tp = statistics.median(ours_rate), statistics.median(honcho_rate)

    ours_cpu, honcho_cpu = idle_cpu(options.idle_seconds)
    seconds = options.idle_seconds
    print(f"idle CPU over {seconds:g}s with 3 children (resolution {1 / TICKS:g}s):")
    print(f"  prodserver: {ours_cpu:.3f}s ({100 * ours_cpu / seconds:.3f}%)")
    print(f"  honcho:     {honcho_cpu:.3f}s ({100 * honcho_cpu / seconds:.3f}%)")
    ratio = f"{ours_cpu / honcho_cpu:.3f}" if honcho_cpu else "n/a (honcho used no measurable CPU)"
    print(f"  ratio prodserver/honcho: {ratio}")
    print(f"output throughput, {options.lines} lines from one child, median of {options.rounds}:")
    print(f"  prodserver: {ours_tp:,.0f} lines/s")
    print(f"  honcho:     {honcho_tp:,.0f} lines/s")
    print(f"  ratio prodserver/honcho: {ours_tp / honcho_tp:.2f}")


if __name__ == "__main__":
    main()

"""prodserver vs the server's own CLI: start-up time, throughput and memory, as ratios.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/launch_overhead.py [--backends gunicorn,uvicorn] [--seconds 5]

For each backend the same options run twice: through ``manage.py prodserver web`` and through
the program's own binary with the exact argv that ``prodserver --dry-run`` prints. Runs
alternate (A, B, A, B, …) so drift on a shared machine hits both sides alike. Every number
comes from this one run; a ratio of 1.00 means "no difference".
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))

from harness import child_env, free_port  # noqa: E402

BACKENDS = {
    "gunicorn": ("django_prodserver.backends.gunicorn.GunicornServer", lambda p: {"bind": f"127.0.0.1:{p}"}),
    "uvicorn": (
        "django_prodserver.backends.uvicorn.UvicornServer",
        lambda p: {"host": "127.0.0.1", "port": p},
    ),
    "granian": (
        "django_prodserver.backends.granian.GranianWSGIServer",
        lambda p: {"host": "127.0.0.1", "port": p},
    ),
    "waitress": (
        "django_prodserver.backends.waitress.WaitressServer",
        lambda p: {"host": "127.0.0.1", "port": p},
    ),
}


def env_for(backend: str, args: dict[str, object]) -> dict[str, str]:
    processes = {"web": {"BACKEND": backend, "ARGS": {**args, "workers": 2}}}
    if backend.endswith("WaitressServer"):
        processes["web"]["ARGS"].pop("workers")
    env = child_env(processes)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def cli_command(env: dict[str, str]) -> list[str]:
    out = subprocess.run(
        [sys.executable, str(TESTS / "manage.py"), "prodserver", "web", "--dry-run"],
        env=env,
        cwd=TESTS,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return shlex.split(out.splitlines()[0])


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                conn.close()
                return time.monotonic() - start
        except OSError:
            time.sleep(0.005)
    raise RuntimeError("server did not answer")


def tree_pss_kib(pid: int) -> int:
    """Memory of a process and all its descendants, from /proc.

    PSS (proportional set size) splits each shared page between the processes sharing it, so
    a master whose workers share its pages after fork is not counted once per worker, as
    RSS would.
    """
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def load(port: int, seconds: float, connections: int = 8) -> float:
    """Requests per second over keep-alive connections for ``seconds``."""
    counts = [0] * connections
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                counts[index] += 1
            if response.getheader("connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def measure(argv: list[str], env: dict[str, str], port: int, seconds: float) -> dict[str, float]:
    proc = subprocess.Popen(
        argv, env=env, cwd=TESTS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        startup = wait_ready(port, proc)
        rps = load(port, seconds)
        pss = tree_pss_kib(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    return {"startup_s": startup, "rps": rps, "pss_mib": pss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    options = parser.parse_args()
    results = {}
    for name in options.backends.split(","):
        backend, address = BACKENDS[name]
        samples: dict[str, list[dict[str, float]]] = {"prodserver": [], "cli": []}
        for _ in range(options.rounds):
            for side in ("prodserver", "cli"):
                port = free_port()
                env = env_for(backend, address(port))
                argv = (
                    [sys.executable, str(TESTS / "manage.py"), "prodserver", "web"]
                    if side == "prodserver"
                    else cli_command(env)
                )
                if side == "cli":
                    argv[0] = str(Path(sys.executable).parent / argv[0])
                samples[side].append(measure(argv, env, port, options.seconds))
        row = {}
        for metric in ("startup_s", "rps", "pss_mib"):
            ours = statistics.median(s[metric] for s in samples["prodserver"])
            theirs = statistics.median(s[metric] for s in samples["cli"])
            row[metric] = {
                "prodserver": round(ours, 3),
                "cli": round(theirs, 3),
                "ratio": round(ours / theirs, 3),
            }
        results[name] = row
        print(
            f"{name:9} start-up {row['startup_s']['ratio']:.2f}x  throughput {row['rps']['ratio']:.2f}x  "
            f"memory (PSS) {row['pss_mib']['ratio']:.2f}x"
            f"   (prodserver / {name} CLI; medians of {options.rounds})"
        )
    print(json.dumps(results, indent=2), flush=True)


if __name__ == "__main__":
    main()

"""A worker's liveness probe: ``prodserver --healthcheck worker`` vs ``celery inspect ping``.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/healthcheck_cost.py [--rounds 10] [--json FILE] [--plot]

Starts the test project's Celery worker on Redis under ``manage.py prodserver worker`` (which
records a heartbeat), then runs both probes against it, alternating (ours, celery's, ours, …)
so drift on a shared machine hits both alike. For each probe it reports the median wall time
and the median CPU time (user + system of the probe process, from ``wait4``), each also as a
ratio to ``celery inspect ping``. Both must exit 0, or the run stops.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))

import common  # noqa: E402

from harness import REDIS_URL, Child, child_env  # noqa: E402

MANAGE = TESTS / "manage.py"
CELERY = Path(sys.executable).parent / "celery"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``argv``, which must exit 0."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, cwd=str(TESTS), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    output = proc.stdout.read().decode() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{output}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    common.output_options(parser)
    options = parser.parse_args()
    rounds = options.rounds
    common.compile_sources()
    queue = f"bench_{uuid.uuid4().hex[:8]}"
    node = f"{queue}@bench"
    beats = tempfile.mkdtemp()
    processes = {
        "worker": {
            "BACKEND": "django_prodserver.backends.celery.CeleryWorker",
            "APP": "testproject.celery.app",
            "ARGS": {"concurrency": 1, "hostname": node, "queues": [queue]},
        }
    }
    settings = {"CELERY_TASK_DEFAULT_QUEUE": queue, "PRODSERVER_HEALTH": {"HEARTBEAT_DIR": beats}}
    env = child_env(processes=processes, settings=settings, env={"CELERY_BROKER_URL": REDIS_URL})
    worker = Child(["prodserver", "worker"], env)
    try:
        worker.wait_for_line(" ready.", timeout=60)
        probes = {
            "python -m django_prodserver --healthcheck worker": [
                sys.executable,
                "-m",
                "django_prodserver",
                "--healthcheck",
                "worker",
            ],
            "manage.py prodserver --healthcheck worker": [
                sys.executable,
                str(MANAGE),
                "prodserver",
                "--healthcheck",
                "worker",
            ],
            "celery inspect ping": [str(CELERY), "-A", "testproject.celery", "inspect", "ping", "-d", node],
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in probes}
        for _ in range(rounds):
            for name, argv in probes.items():
                results[name].append(timed(argv, env))
    finally:
        worker.stop()
    medians = {
        name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for name, runs in results.items()
    }
    their_wall, their_cpu = medians["celery inspect ping"]
    for name, (wall, cpu) in medians.items():
        shown = f"wall {wall:.3f} s ({wall / their_wall:.2f}x)   CPU {cpu:.3f} s ({cpu / their_cpu:.2f}x)"
        print(f"{name:<50} {shown}")
    payload: dict[str, object] = {
        "machine": common.machine(),
        "rounds": rounds,
        "results": {name: {"wall_s": wall, "cpu_ms": 1000 * cpu} for name, (wall, cpu) in medians.items()},
    }
    common.keep(payload, options, "probe")


if __name__ == "__main__":
    main()

"""What one worker health probe costs: ``manage.py prodserver --healthcheck worker`` vs
``celery -A benchproject.celery inspect ping``, against the same running Celery worker.

Run by hand, never in the test suite (needs Redis on 127.0.0.1:6379, or CELERY_BROKER_URL):

    .venv/bin/python benchmarks/probe_cost.py [--rounds 5] [--name worker] [--json FILE] [--plot]

A container orchestrator runs the probe every few seconds for the life of the worker, so what
counts is the probe process' own CPU time (user + system, from ``wait4()``), and the wall time
it takes to answer. Probes alternate; the ratio is the median of per-pair ratios. The
prodserver side measures whatever ``--healthcheck NAME`` does in the installed version: when it
exits non-zero, its message is printed and only Celery's side is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import common

WORKER = {
    "BACKEND": "django_prodserver.backends.celery.CeleryWorker",
    "APP": "benchproject.celery.app",
    "ARGS": {"concurrency": 1, "loglevel": "info"},
}


def timed(argv: list[str], environ: dict[str, str]) -> dict[str, Any]:
    """Run a probe to completion: its CPU seconds, wall seconds, exit status and last line."""
    start = time.monotonic()
    proc = subprocess.Popen(
        argv, env=environ, cwd=common.HERE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    output = proc.stdout.read().decode(errors="replace").strip()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "cpu_ms": 1000 * (usage.ru_utime + usage.ru_stime),
        "wall_ms": 1000 * (time.monotonic() - start),
        "returncode": proc.returncode,
        "output": output.splitlines()[-1] if output else "",
    }


def wait_for_worker(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while "ready." not in common.stderr_of(proc):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the Celery worker did not start (is Redis up?):\n{common.stderr_of(proc)[-2000:]}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--name", default="worker", help="the process --healthcheck names")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--plot", nargs="?", const=common.HERE.parent / "docs" / "benchmarks", type=Path)
    options = parser.parse_args()
    print(common.machine(), flush=True)
    environ = common.env({options.name: WORKER})
    probes = {
        "prodserver --healthcheck": [
            sys.executable,
            str(common.MANAGE),
            "prodserver",
            "--healthcheck",
            options.name,
        ],
        "celery inspect ping": [str(common.BIN / "celery"), "-A", "benchproject.celery", "inspect", "ping"],
    }
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in probes}
    worker_argv = [sys.executable, str(common.MANAGE), "prodserver", options.name]
    with common.running(worker_argv, environ, common.Cores(None, None)) as worker:
        wait_for_worker(worker)
        for index in range(options.rounds):
            order = list(probes.items()) if index % 2 == 0 else list(reversed(probes.items()))
            for label, argv in order:
                runs[label].append(timed(argv, environ))
    results: dict[str, Any] = {}
    for label, samples in runs.items():
        failed = [s for s in samples if s["returncode"]]
        if failed:
            print(f"{label}: exited {failed[0]['returncode']}: {failed[0]['output']}")
            print(
                f"  (this version's '--healthcheck {options.name}' does not probe the worker; not measured)"
            )
            continue
        results[label] = {m: statistics.median(s[m] for s in samples) for m in ("cpu_ms", "wall_ms")}
        print(f"{label:26} CPU {results[label]['cpu_ms']:6.0f} ms   wall {results[label]['wall_ms']:6.0f} ms")
    if len(results) == 2:
        ours, celery = (runs[label] for label in probes)
        for metric in ("cpu_ms", "wall_ms"):
            _, ratio = common.ratios([(a[metric], b[metric]) for a, b in zip(ours, celery, strict=True)])
            print(f"ratio prodserver / celery ({metric[:-3]}): {ratio:.2f}")
    payload = {
        "machine": common.machine(),
        "versions": common.versions("celery", "django"),
        "results": results,
    }
    if options.json:
        options.json.write_text(json.dumps(payload, indent=2))
    if options.plot and results:
        import plot

        for path in plot.probe(payload, options.plot):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()

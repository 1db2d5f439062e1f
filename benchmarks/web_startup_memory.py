"""Start-up to the first 200 and memory (PSS after a full GC in every worker) at 4 workers:
prodserver vs the server's own CLI with the same ARGS, per web backend.

Run by hand, never in the test suite:

    .venv/bin/python benchmarks/web_startup_memory.py [--backends ...|all] [--workers 4]
        [--pairs 3] [--skip-checks] [--json FILE] [--plot]

Start-up is the time from spawning the command to the first 200 on ``/``. Memory: the
benchmark project's ``/gc`` view runs ``gc.collect()`` and answers with its PID; we ask on
fresh connections until every worker has answered (or 20 s pass), then add up the PSS of the
whole process tree (master, workers, helpers) from ``/proc/<pid>/smaps_rollup``. PSS splits
each shared page between the processes sharing it, so workers forked from a master that
loaded Django share those pages and count them once, while workers that import Django each on
their own count it once each. Sides alternate; ratios are medians of per-pair ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from typing import Any

import common
from sides import DEFAULT, Side, chosen

METRICS = ("startup_s", "pss_mib", "pss_per_worker_mib")


async def _pid_of_one(port: int) -> int | None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    try:
        writer.write(b"GET /gc HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = await reader.read()
        return int(json.loads(answer.split(b"\r\n\r\n", 1)[1])["pid"])
    except (OSError, ValueError, IndexError, KeyError):
        return None
    finally:
        writer.close()


async def _collect_everywhere(port: int, workers: int, deadline: float) -> set[int]:
    seen: set[int] = set()
    while len(seen) < workers and time.monotonic() < deadline:
        pids = await asyncio.gather(*(_pid_of_one(port) for _ in range(2 * workers)))
        seen.update(p for p in pids if p)
    return seen


def one_side(argv: list[str], environ: dict[str, str], workers: int, cores: common.Cores) -> dict[str, float]:
    port = int(environ["BENCH_PORT"])
    since = time.monotonic()
    with common.running(argv, environ, cores) as proc:
        startup = common.wait_ready(port, proc, since=since)
        reached = asyncio.run(_collect_everywhere(port, workers, time.monotonic() + 20))
        pss = common.pss_kib(common.tree(proc.pid)) / 1024
    return {
        "startup_s": startup,
        "pss_mib": pss,
        "pss_per_worker_mib": pss / workers,
        "workers_reached": len(reached),
    }


def compare(side: Side, workers: int, pairs: int, cores: common.Cores, extra: list[str]) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {"prodserver": [], "CLI": []}
    count = workers if side.forks_workers else 1
    for index in range(pairs):
        port = common.free_port()
        ours = {**common.env(side.processes(port, workers)), "BENCH_PORT": str(port)}
        cli = {**common.env(), "BENCH_PORT": str(port)}
        commands = [
            ("prodserver", [*side.prodserver_argv(), *extra], ours),
            ("CLI", side.cli_argv(port, workers), cli),
        ]
        for label, argv, environ in commands if index % 2 == 0 else reversed(commands):
            runs[label].append(one_side(argv, environ, count, cores))
    row: dict[str, Any] = {"sides": ["prodserver", "CLI"], "workers": count, "runs": runs}
    for metric in METRICS:
        pairs_ = [(x[metric], y[metric]) for x, y in zip(runs["prodserver"], runs["CLI"], strict=True)]
        each, median = common.ratios(pairs_)
        row[metric] = {
            "prodserver": statistics.median(r[metric] for r in runs["prodserver"]),
            "CLI": statistics.median(r[metric] for r in runs["CLI"]),
            "ratios": each,
            "ratio": median,
        }
    row["workers_reached"] = min(r["workers_reached"] for rs in runs.values() for r in rs)
    return row


def report(name: str, row: dict[str, Any]) -> None:
    up, pss = row["startup_s"], row["pss_mib"]
    short = (
        "" if row["workers_reached"] >= row["workers"] else f"  (only {row['workers_reached']} answered /gc)"
    )
    print(
        f"{name:13} start-up s {up['prodserver']:.2f} / {up['CLI']:.2f}  ratio {up['ratio']:.2f}   "
        f"PSS MiB {pss['prodserver']:5.0f} / {pss['CLI']:5.0f} ({row['workers']} process(es) serving)  "
        f"ratio {pss['ratio']:.2f}   (prodserver / CLI){short}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(DEFAULT), help="comma-separated, or 'all'")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument(
        "--skip-checks", action="store_true", help="start prodserver with --skip-checks (no system checks)"
    )
    common.output_options(parser)
    options = parser.parse_args()
    extra = ["--skip-checks"] if options.skip_checks else []
    common.compile_sources()
    cores = common.Cores.pick()
    print(common.machine(), flush=True)
    if cores.client is not None:
        os.sched_setaffinity(0, cores.client)
    selected = chosen(options.backends)
    results = {}
    for side in selected:
        results[side.name] = compare(side, options.workers, options.pairs, cores, extra)
        report(side.name, results[side.name])
    payload = {
        "machine": common.machine(),
        "versions": common.versions("django", "django-prodserver", *{s.program for s in selected}),
        "workers": options.workers,
        "skip_checks": options.skip_checks,
        "results": results,
    }
    common.keep(payload, options, "startup_memory")


if __name__ == "__main__":
    main()

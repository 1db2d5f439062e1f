"""Requests/s, p99 latency and server CPU per request at one worker: prodserver vs the server's
own CLI with the same ARGS (or, with --access-log, prodserver's defaults vs the same server with
its access log off; with --b-args, vs those ARGS on top of the defaults), per web backend,
with the app's in-process ceiling as the 100 % mark.

Run by hand, never in the test suite:

    .venv/bin/python benchmarks/web_throughput.py [--backends gunicorn,granian-wsgi|all]
        [--pairs 3] [--seconds 3] [--connections 8] [--access-log | --b-args JSON]
        [--json FILE] [--plot]

The server tree runs on one core and this process (the load generator, ``loadgen.py``) on
another. Sides alternate A B, B A, … so drift on a shared machine hits both; each pair gives
one ratio A/B and the median of those ratios is printed. CPU per request (the server tree's
user + system time over the measured window, divided by the requests answered) moves least
when other work shares the machine; requests/s and p99 move most.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Any

import common
import loadgen
from sides import ACCESS_LOG_OFF, DEFAULT, Side, chosen

METRICS = ("rps", "p99_ms", "cpu_us")


def ceiling(interface: str, seconds: float, cores: common.Cores) -> dict[str, float]:
    """Requests/s and CPU µs per request of the app called in-process on the server's core."""
    argv = [sys.executable, str(common.HERE / "ceiling.py"), interface, f"--seconds={seconds}"]
    proc = common.spawn(argv, common.env(), cores, stdout=subprocess.PIPE)
    out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"ceiling.py {interface} failed: {common.stderr_of(proc)[-2000:]}")
    common.stop(proc)
    return dict(json.loads(out))


def one_side(argv: list[str], environ: dict[str, str], options: argparse.Namespace) -> dict[str, float]:
    port = int(environ["BENCH_PORT"])
    with common.running(argv, environ, options.cores) as proc:
        common.wait_ready(port, proc)
        loadgen.run(port, seconds=options.warmup, warmup=0, connections=options.connections)
        pids = common.tree(proc.pid)
        before = common.cpu_seconds(pids)
        load = loadgen.run(port, seconds=options.seconds, warmup=0, connections=options.connections)
        cpu = common.cpu_seconds(pids) - before
    answered = len(load.latencies_ns)
    return {
        "rps": load.rps,
        "p99_ms": load.percentile_ms(0.99),
        "cpu_us": 1e6 * cpu / answered if answered else float("nan"),
        "errors": load.errors,
    }


def sides_of(side: Side, options: argparse.Namespace) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The two commands to compare, each with its environment, on a fresh port."""
    port = common.free_port()
    ours = common.env(side.processes(port, 1))
    ours["BENCH_PORT"] = str(port)
    if options.access_log or options.b_args:
        label = "access log off" if options.access_log else "with --b-args"
        overrides = ACCESS_LOG_OFF[side.name] if options.access_log else json.loads(options.b_args)
        other = common.env(side.processes(port, 1, overrides))
        other["BENCH_PORT"] = str(port)
        return {"defaults": (side.prodserver_argv(), ours), label: (side.prodserver_argv(), other)}
    cli = common.env()
    cli["BENCH_PORT"] = str(port)
    return {"prodserver": (side.prodserver_argv(), ours), "CLI": (side.cli_argv(port, 1), cli)}


def compare(side: Side, options: argparse.Namespace) -> dict[str, object]:
    runs: dict[str, list[dict[str, float]]] = {}
    for index in range(options.pairs):
        commands = list(sides_of(side, options).items())
        for label, (argv, environ) in commands if index % 2 == 0 else reversed(commands):
            runs.setdefault(label, []).append(one_side(argv, environ, options))
    a, b = runs
    row: dict[str, object] = {"sides": [a, b], "runs": runs}
    for metric in METRICS:
        each, median = common.ratios([(x[metric], y[metric]) for x, y in zip(runs[a], runs[b], strict=True)])
        row[metric] = {
            a: statistics.median(r[metric] for r in runs[a]),
            b: statistics.median(r[metric] for r in runs[b]),
            "ratios": each,
            "ratio": median,
        }
    return row


def report(name: str, side: Side, row: dict[str, Any], ceilings: dict[str, dict[str, float]]) -> None:
    a, b = row["sides"]
    rps, p99, cpu = (row[m] for m in METRICS)
    top = ceilings.get(side.interface)
    share = (
        f" = {100 * rps[a] / top['rps']:3.0f} % / {100 * rps[b] / top['rps']:3.0f} % of the ceiling"
        if top
        else ""
    )
    efficiency = (
        f" = {100 * top['cpu_us'] / cpu[a]:3.0f} % / {100 * top['cpu_us'] / cpu[b]:3.0f} % of the ceiling"
        if top
        else ""
    )
    pairs = ", ".join(f"{r:.2f}" for r in rps["ratios"])
    print(
        f"{name:13} req/s {rps[a]:6.0f} / {rps[b]:6.0f}{share}  ratio {rps['ratio']:.2f} (pairs {pairs})\n"
        f"{'':13} p99 ms {p99[a]:5.1f} / {p99[b]:5.1f}  ratio {p99['ratio']:.2f}   "
        f"CPU µs/request {cpu[a]:4.0f} / {cpu[b]:4.0f}{efficiency}  ratio {cpu['ratio']:.2f}   ({a} / {b})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(DEFAULT), help="comma-separated, or 'all'")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3, help="measured load per side")
    parser.add_argument("--warmup", type=float, default=0.5, help="unmeasured load before it")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--access-log", action="store_true", help="defaults vs the access log off")
    parser.add_argument(
        "--b-args",
        metavar="JSON",
        help='prodserver\'s defaults vs these ARGS on top, e.g. \'{"access-log-fmt": "%%(status)d"}\'',
    )
    parser.add_argument("--no-ceiling", action="store_true", help="skip the in-process ceiling")
    common.output_options(parser)
    options = parser.parse_args()
    common.compile_sources()
    options.cores = common.Cores.pick()
    selected = chosen(options.backends)
    if options.access_log:
        selected = [s for s in selected if s.name in ACCESS_LOG_OFF]
    print(common.machine(), flush=True)
    if options.cores.client is not None:
        os.sched_setaffinity(0, options.cores.client)
    ceilings = {}
    if not options.no_ceiling:
        for interface in sorted({s.interface for s in selected}):
            ceilings[interface] = ceiling(interface, options.seconds, options.cores)
            top = ceilings[interface]
            print(
                f"in-process ceiling ({interface.upper()}): {top['rps']:.0f} requests/s, "
                f"{top['cpu_us']:.0f} CPU µs/request",
                flush=True,
            )
    results = {}
    for side in selected:
        results[side.name] = compare(side, options)
        report(side.name, side, results[side.name], ceilings)
    payload = {
        "machine": common.machine(),
        "versions": common.versions("django", "django-prodserver", *{s.program for s in selected}),
        "mode": "access-log" if options.access_log else "b-args" if options.b_args else "cli",
        "ceilings": ceilings,
        "interfaces": {s.name: s.interface for s in selected},
        "results": results,
    }
    common.keep(payload, options, "throughput")


if __name__ == "__main__":
    main()

"""PNG charts of the benchmarks' results, for the docs (``--plot`` on each script).

Imported only when ``--plot`` is given: matplotlib is in the dev extra, not needed to measure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = ("#2b6cb0", "#a0aec0")


def _bars(ax: Any, names: list[str], series: dict[str, list[float]], fmt: str) -> None:
    width = 0.8 / len(series)
    for index, (label, values) in enumerate(series.items()):
        xs = [i + (index - (len(series) - 1) / 2) * width for i in range(len(names))]
        bars = ax.bar(xs, values, width, label=label, color=COLOURS[index % len(COLOURS)])
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=7, padding=2)
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)


def _save(fig: Any, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def throughput(payload: dict[str, Any], folder: Path) -> list[Path]:
    """Per backend, both sides: CPU per request and requests/s as shares of the in-process
    ceiling (100 % = the server adds nothing), and p99 latency."""
    results, ceilings = payload["results"], payload["ceilings"]
    names = list(results)
    a, b = results[names[0]]["sides"]
    fig, (cpu, rps, p99) = plt.subplots(1, 3, figsize=(13, 3.8))
    if ceilings:
        top = [ceilings[payload["interfaces"][n]] for n in names]
        cost = {
            s: [100 * t["cpu_us"] / results[n]["cpu_us"][s] for n, t in zip(names, top, strict=True)]
            for s in (a, b)
        }
        _bars(cpu, names, cost, "{:.0f}")
        cpu.set_ylabel("% (in-process CPU / server CPU)")
        cpu.set_title("CPU per request vs in-process, 1 worker", fontsize=10)
        share = {
            s: [100 * results[n]["rps"][s] / t["rps"] for n, t in zip(names, top, strict=True)]
            for s in (a, b)
        }
        _bars(rps, names, share, "{:.0f}")
        rps.set_ylabel("% of in-process requests/s")
    else:
        _bars(cpu, names, {s: [results[n]["cpu_us"][s] for n in names] for s in (a, b)}, "{:.0f}")
        cpu.set_ylabel("CPU µs per request")
        cpu.set_title("CPU per request, 1 worker", fontsize=10)
        _bars(rps, names, {s: [results[n]["rps"][s] for n in names] for s in (a, b)}, "{:.0f}")
        rps.set_ylabel("requests/s")
    rps.set_title("requests/s, 1 worker", fontsize=10)
    _bars(p99, names, {s: [results[n]["p99_ms"][s] for n in names] for s in (a, b)}, "{:.1f}")
    p99.set_ylabel("ms")
    p99.set_title("p99 latency, 8 connections", fontsize=10)
    name = {"access-log": "access-log.png", "cli": "throughput.png"}.get(payload["mode"], "b-args.png")
    return [_save(fig, folder, name)]


def startup_memory(payload: dict[str, Any], folder: Path) -> list[Path]:
    """Start-up to the first 200 and PSS per worker, per backend, both sides."""
    results = payload["results"]
    names = list(results)
    a, b = results[names[0]]["sides"]
    workers = payload["workers"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    _bars(left, names, {s: [results[n]["startup_s"][s] for n in names] for s in (a, b)}, "{:.2f}")
    left.set_ylabel("seconds")
    left.set_title(f"spawn to first 200, {workers} workers", fontsize=10)
    per_worker = {s: [results[n]["pss_per_worker_mib"][s] for n in names] for s in (a, b)}
    _bars(right, names, per_worker, "{:.0f}")
    right.set_ylabel("MiB")
    right.set_title(f"PSS per worker after a full GC, {workers} workers", fontsize=10)
    return [_save(fig, folder, "startup-memory.png")]


def probe(payload: dict[str, Any], folder: Path) -> list[Path]:
    """CPU time of one probe process, per probe."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    names = list(payload["results"])
    cpu = {"CPU ms per probe": [payload["results"][n]["cpu_ms"] for n in names]}
    # The probes are whole command lines: one line per option keeps the labels on the chart.
    _bars(ax, [n.replace(" --", "\n--") for n in names], cpu, "{:.0f}")
    ax.set_ylabel("ms")
    ax.set_title("worker probe cost", fontsize=10)
    return [_save(fig, folder, "probe.png")]

"""Instructions from spawn to the first 200, prodserver vs the server's CLI, counted by callgrind.

A start takes a few hundred milliseconds, so on a shared machine a 3 % difference hides in the
noise of wall-clock pairs; an instruction count repeats within 0.5 %. What is counted is the
work on the way to the first answer: a process that forks its worker (gunicorn, granian) is
split at the fork (``--dump-before=PyOS_BeforeFork``), and its part before the fork plus
everything the worker did is the start; what the master does after forking runs beside the
worker and is left out. A server that does not fork is counted whole, which adds its idle
loop and its shutdown to both sides alike.

It also shows where a start goes, which timing cannot: ``--keep DIR`` keeps the files for
``callgrind_annotate``. Needs ``valgrind``; a side takes 10 to 20 seconds.

    .venv/bin/python benchmarks/startup_instructions.py [--backends gunicorn,waitress|all]
        [--skip-checks] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import common
from sides import DEFAULT, chosen

#: A file written at a fork: ``PID.1`` is the process before it, ``PID`` after it.
PART = re.compile(r"^(\d+)\.\d+$")


def instructions(argv: list[str], environ: dict[str, str], port: int, out: Path) -> int:
    """Instructions the process tree executed on the way to its first 200."""
    out.mkdir(parents=True)
    valgrind = [
        "valgrind",
        "--tool=callgrind",
        "--trace-children=yes",
        "--dump-before=PyOS_BeforeFork",
        f"--callgrind-out-file={out}/%p",
    ]
    cores = common.Cores(None, None)  # one core would make valgrind's start-up slower still
    proc = common.spawn([*valgrind, *argv], environ, cores)
    try:
        common.wait_ready(port, proc, timeout=600)
    finally:
        common.stop(proc)  # SIGTERM: every process exits and callgrind writes its files
    files = [path for path in out.iterdir() if path.is_file()]
    forked = {match.group(1) for path in files if (match := PART.match(path.name))}
    total = 0
    #: Whether the process that answered (the server itself, or a forked worker) was counted.
    answered = False
    for path in files:
        if path.name in forked:
            continue  # a master after its fork: beside the worker, not on the way to the answer
        lines = path.read_text().splitlines()
        summary = next((line for line in lines if line.startswith(("summary:", "totals:"))), None)
        if summary is None:  # killed before callgrind wrote its counts (a helper process)
            print(f"  {path.name}: callgrind wrote no counts", file=sys.stderr)
            continue
        total += int(summary.split()[1])
        answered = answered or path.name.isdigit()
    if not answered:
        # Only a master's part before its fork was counted: a ratio from it would be wrong.
        raise LostCounts(f"{out}: the process that answered wrote no counts")
    return total


class LostCounts(RuntimeError):
    """callgrind wrote no counts for the process that answered."""


def counted(argv: list[str], environ: dict[str, str], port: int, out: Path) -> int:
    """:func:`instructions`, once more when the answering process' counts were lost."""
    try:
        return instructions(argv, environ, port, out)
    except LostCounts as exc:
        print(f"  {exc}; counting again", file=sys.stderr)
        return instructions(argv, environ, port, out.with_name(out.name + "-again"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default=",".join(DEFAULT), help="comma-separated, or 'all'")
    parser.add_argument("--skip-checks", action="store_true", help="start prodserver with --skip-checks")
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind files here")
    options = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    common.compile_sources()
    extra = ["--skip-checks"] if options.skip_checks else []
    keep = Path(options.keep) if options.keep else None
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = keep or Path(scratch)
        for side in chosen(options.backends):
            counts = {}
            port = common.free_port()
            for name, argv, environ in common.both_sides(side, port, extra):
                counts[name] = counted(argv, environ, port, root / side.name / name)
            results[side.name] = common.count_ratio(
                side.name, counts, "M instructions to the first 200", scale=1e6
            )
    if keep:
        (keep / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

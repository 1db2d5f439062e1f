"""Instructions from spawn to the first 200, prodserver vs the server's CLI, counted by callgrind.

A start takes a few hundred milliseconds, so on a shared machine a 3 % difference hides in the
noise of wall-clock pairs; an instruction count repeats within 0.5 %. What is counted is the
work on the way to the first answer. Each process is counted until it first does one of two
things: fork (``--dump-before=PyOS_BeforeFork``: gunicorn's and granian's master before their
worker) or call ``send()`` (``--dump-before=send``: the answer itself, or an asyncio loop
waking itself mid-request, at the same point of the server's code on both sides). A forked
worker counts from its fork. So a master's life beside its worker, a server's idle loop and
its shutdown are left out: they differ between the sides (waitress' CLI dies at SIGTERM,
prodserver shuts down cleanly) without being start-up. A server whose answers never go
through ``send()`` is counted to its exit, as is every process that neither forks nor sends:
granian's Rust workers and uvicorn on uvloop (libuv) write otherwise, and shut down the same
way on both sides.

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

#: A file callgrind wrote at a dump: ``PID.N`` is part N of the process; ``PID`` its last part.
PART = re.compile(r"^(\d+)(?:\.(\d+))?$")
#: The trigger of a part that ended at one of the dumps asked for below.
AT_A_DUMP = "--dump-before="


def instructions(argv: list[str], environ: dict[str, str], port: int, out: Path) -> int:
    """Instructions the process tree executed on the way to its first 200."""
    out.mkdir(parents=True)
    valgrind = [
        "valgrind",
        "--tool=callgrind",
        "--trace-children=yes",
        "--dump-before=PyOS_BeforeFork",
        "--dump-before=send",
        f"--callgrind-out-file={out}/%p",
    ]
    cores = common.Cores(None, None)  # one core would make valgrind's start-up slower still
    proc = common.spawn([*valgrind, *argv], environ, cores)
    try:
        common.wait_ready(port, proc, timeout=600)
    finally:
        common.stop(proc)  # SIGTERM: every process exits and callgrind writes its files
    parts: dict[str, list[common.CallgrindPart]] = {}
    for path in out.iterdir():
        if path.is_file() and (match := PART.match(path.name)):
            part = common.callgrind_part(path)
            if part is None:  # killed before callgrind wrote its counts (a helper process)
                print(f"  {path.name}: callgrind wrote no counts", file=sys.stderr)
            else:
                parts.setdefault(match.group(1), []).append(part)
    total = 0
    #: Whether the process that answered (the server itself, or a forked worker) was counted.
    answered = False
    for process in parts.values():
        for _, trigger, count in sorted(process):
            total += count
            if trigger.startswith(AT_A_DUMP):
                answered = answered or trigger == f"{AT_A_DUMP}send"
                break
        else:
            answered = True  # neither forked nor sent: counted whole, as a server that writes otherwise
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
            counts: dict[str, float] = {}
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

"""Instructions per request, prodserver vs the server's CLI, counted by valgrind's callgrind.

Wall-clock and CPU-time ratios on a shared machine move by several per cent from one pair to
the next; an instruction count does not (two runs agree within 0.1 %), so a 1 % gap in what a
request costs shows, and where it goes can be read from the callgrind files (``--keep DIR``,
then ``callgrind_annotate``).

Each side runs under callgrind with one worker and is started twice: both runs answer a
warm-up, one answers N requests more, and the difference between the two runs' instruction
totals over N is the cost of one request. What is counted is the process that serves: the
forked worker where there is one (granian, gunicorn), else the server's own process; a
master's idle work grows with wall time, not with requests. No ``callgrind_control``: it
cannot reach a forked worker. Needs ``valgrind``; a side takes a minute or two.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import common
from sides import chosen

WARMUP = 30
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def get_many(port: int, count: int) -> None:
    """``count`` sequential requests on one keep-alive connection, each answered 200."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        for _ in range(count):
            sock.sendall(REQUEST)
            answer = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    # gunicorn's sync worker closes every connection: it cannot be counted so.
                    raise RuntimeError("the server closed the keep-alive connection")
                answer += chunk
                head, _, body = answer.partition(b"\r\n\r\n")
                length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
                if length and len(body) >= int(length.group(1)):
                    break
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"not a 200: {head[:200]!r}")


def instructions(argv: list[str], environ: dict[str, str], port: int, requests: int, out: Path) -> int:
    """Instructions the serving process executed, start to stop, having answered ``requests``."""
    out.mkdir(parents=True)
    valgrind = ["valgrind", "--tool=callgrind", "--separate-threads=no", f"--callgrind-out-file={out}/%p"]
    cores = common.Cores(None, None)  # one core would make valgrind's start-up slower still
    proc = common.spawn([*valgrind, *argv], environ, cores)
    try:
        common.wait_ready(port, proc, timeout=600)
        get_many(port, WARMUP + requests)
    finally:
        common.stop(proc)  # SIGTERM: every process exits and callgrind writes its file
    workers = [path for path in out.iterdir() if path.name != str(proc.pid)]
    total = 0
    for path in workers or [out / str(proc.pid)]:
        part = common.callgrind_part(path)
        if part is None:
            raise RuntimeError(f"{path}: callgrind wrote no counts")
        total += part.instructions
    return total


def per_request(argv: list[str], environ: dict[str, str], port: int, requests: int, out: Path) -> float:
    base = instructions(argv, environ, port, 0, out / "base")
    loaded = instructions(argv, environ, port, requests, out / "loaded")
    return (loaded - base) / requests


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="uvicorn,granian", help="comma-separated, or 'all'")
    parser.add_argument("--requests", type=int, default=300, help="requests counted per side")
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind files here")
    options = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    keep = Path(options.keep) if options.keep else None
    with tempfile.TemporaryDirectory() as scratch:
        root = keep or Path(scratch)
        results = {}
        for side in chosen(options.backends):
            counts = {}
            port = common.free_port()
            for name, argv, environ in common.both_sides(side, port):
                counts[name] = per_request(argv, environ, port, options.requests, root / side.name / name)
            results[side.name] = common.count_ratio(side.name, counts, "instructions/request")
    if keep:
        (keep / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

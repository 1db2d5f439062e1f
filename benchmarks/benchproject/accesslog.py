"""A cheaper gunicorn access logger, to measure what one would save (``web_throughput.py
--backends gunicorn --b-args '{"logger-class": "benchproject.accesslog.CompactAccessLogger"}'``).

A benchmark prototype, not part of prodserver: the same line as gunicorn's default access log
format (``%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"``) written with one
``os.write`` to stdout, without the logging module (a lock, a LogRecord, a formatter and a flush
per line) and with the timestamp formatted once per second instead of per request.
"""

from __future__ import annotations

import os
import time
from typing import Any

from gunicorn.glogging import Logger


class CompactAccessLogger(Logger):  # type: ignore[misc]
    _second = -1
    _stamp = ""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if self.cfg.accesslog != "-":
            super().access(resp, req, environ, request_time)
            return
        now = int(time.time())
        if now != self._second:
            self._second, self._stamp = now, time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(now))
        status = str(resp.status).split(None, 1)[0]
        sent = resp.sent if getattr(resp, "sent", None) is not None else "-"
        request = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        line = (
            f'{environ.get("REMOTE_ADDR", "-")} - - {self._stamp} "{request}" {status} {sent} '
            f'"{environ.get("HTTP_REFERER", "-")}" "{environ.get("HTTP_USER_AGENT", "-")}"\n'
        )
        os.write(1, line.encode("latin-1", "replace"))

"""A worker whose start only reports what prodserver handed it: the collector's state."""

import gc
import sys

from django_prodserver.backends.base import BaseWorkerBackend


class CollectorReport(BaseWorkerBackend):
    program = "collector-report"

    def start_server(self, *args: str) -> None:
        print(f"collecting={gc.isenabled()} frozen={gc.get_freeze_count()}")
        sys.stdout.flush()

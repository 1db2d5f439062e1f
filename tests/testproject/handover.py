"""What prodserver handed a process it started: the collector's state."""

import gc
import sys

from django_prodserver.backends.base import BaseWorkerBackend
from testproject import models


class CollectorReport(BaseWorkerBackend):
    """A worker whose start only prints the collector's state, then and at the models' import."""

    program = "collector-report"

    def start_server(self, *args: str) -> None:
        print(
            f"collecting={gc.isenabled()} frozen={gc.get_freeze_count()} "
            f"at_setup={models.COLLECTING_WHEN_MODELS_WERE_IMPORTED}"
        )
        sys.stdout.flush()

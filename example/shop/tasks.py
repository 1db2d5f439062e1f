"""The demo's background task.

The web process only enqueues it; the ``worker`` process (Django Tasks' database worker)
runs it. The sleep stands in for slow work a request should not wait for.
"""

import os
import time

from django_tasks import task


@task()
def make_receipt(order: str) -> str:
    time.sleep(1)
    return f"Receipt for {order}, made by worker pid {os.getpid()}"

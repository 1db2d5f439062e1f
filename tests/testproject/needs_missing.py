"""A third-party backend whose program is not installed on this machine."""

import prodserver_test_not_installed  # noqa: F401

from django_prodserver.backends.base import BaseWorkerBackend


class NeedsMissing(BaseWorkerBackend):
    def start_server(self, *args: str) -> None:  # pragma: no cover - never starts here
        raise NotImplementedError

"""A backend written the way the public django-prodserver documented it, kept unchanged.

It overrides only ``start_server(*args)`` and relies on ``self.args`` holding the ARGS as
``--key=value`` strings, as projects upgrading to this package have it.
"""

import sys

from django_prodserver.backends.base import BaseServerBackend


class LegacyServer(BaseServerBackend):
    def start_server(self, *args):  # type: ignore[no-untyped-def]
        print("legacy server started with", *args)
        print("self.args =", self.args)
        sys.stdout.flush()

"""Workers written against django-prodserver 3.x's public API, kept as a project would write them.

``Mailer`` overrides only ``start_server(*args)``; ``Strict`` declares ``accepts_extra_args =
False``; ``Forwarding`` takes 3.x's ``prep_server_args(extra_args)``.
"""

import sys

from django_prodserver.backends.base import BaseWorkerBackend


class Mailer(BaseWorkerBackend):
    def start_server(self, *args):  # type: ignore[no-untyped-def]
        print("mailer started with", *args)
        sys.stdout.flush()


class Strict(Mailer):
    accepts_extra_args = False


class Forwarding(Mailer):
    def prep_server_args(self, extra_args=()):  # type: ignore[no-untyped-def]
        return ["--from-settings", *self.args, "--from-command-line", *extra_args]


class Unfinished(BaseWorkerBackend):
    def prep_server_args(self):  # type: ignore[no-untyped-def]
        return ["--ready"]

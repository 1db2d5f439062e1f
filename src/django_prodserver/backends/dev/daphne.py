"""``DaphneRunserver``: Daphne's ASGI ``runserver`` (autoreload, static files) as a process.

Daphne ships a ``runserver`` command that serves ``ASGI_APPLICATION``; its parser adds
``http_timeout`` and ``websocket_handshake_timeout`` to runserver's options. For production,
``django_prodserver.backends.daphne.DaphneServer`` runs the ``daphne`` program instead.
"""

from __future__ import annotations

from django_prodserver.backends.dev._runserver import RunserverBackend
from django_prodserver.errors import ApplicationNotFound


class DaphneRunserver(RunserverBackend):
    requires = (("daphne", "Daphne"),)
    extra = "daphne"

    def command_app(self) -> str:
        return "daphne"

    def validate(self) -> None:
        from django.conf import settings

        super().validate()
        if not getattr(settings, "ASGI_APPLICATION", None):
            raise ApplicationNotFound(
                f"Process {self.name!r}: DaphneRunserver serves ASGI_APPLICATION, which is not set; "
                "set it to your application, e.g. 'mysite.asgi.application'."
            )


__all__ = ["DaphneRunserver"]

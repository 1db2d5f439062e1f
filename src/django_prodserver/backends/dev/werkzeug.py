"""``WerkzeugRunserver`` (alias ``RunserverPlus``): django-extensions' ``runserver_plus``.

Werkzeug's debugger and reloader, configured with ``runserver_plus``'s own options in ARGS
(``{"nopin": True, "cert_file": "dev.crt"}``; underscores or dashes both name an option).
"""

from __future__ import annotations

from django_prodserver.backends.dev._runserver import RunserverBackend


class WerkzeugRunserver(RunserverBackend):
    program = "runserver_plus"
    requires = (("django_extensions", "django-extensions"), ("werkzeug", "Werkzeug"))
    extra = "werkzeug"

    def command_app(self) -> str:
        return "django_extensions"


class RunserverPlus(WerkzeugRunserver):
    """The name users of django-extensions know."""


__all__ = ["RunserverPlus", "WerkzeugRunserver"]

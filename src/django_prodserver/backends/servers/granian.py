"""3.x's path for the classes in :mod:`django_prodserver.backends.granian`."""

from django_prodserver.backends.granian import GranianASGIServer, GranianWSGIServer
from django_prodserver.backends.granian import _GranianServer as GranianServerBase

__all__ = ["GranianASGIServer", "GranianServerBase", "GranianWSGIServer"]

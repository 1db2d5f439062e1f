"""3.x's path for the classes in :mod:`django_prodserver.backends.waitress`."""

from django_prodserver.backends.waitress import WaitressServer

__all__ = ["WaitressServer"]

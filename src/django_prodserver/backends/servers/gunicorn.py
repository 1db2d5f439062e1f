"""3.x's path for the classes in :mod:`django_prodserver.backends.gunicorn`."""

from django_prodserver.backends.gunicorn import GunicornServer, GunicornUvicornServer

__all__ = ["GunicornServer", "GunicornUvicornServer"]

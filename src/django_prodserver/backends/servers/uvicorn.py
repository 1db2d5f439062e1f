"""3.x's path for the classes in :mod:`django_prodserver.backends.uvicorn`."""

from django_prodserver.backends.uvicorn import UvicornServer, UvicornWSGIServer

__all__ = ["UvicornServer", "UvicornWSGIServer"]

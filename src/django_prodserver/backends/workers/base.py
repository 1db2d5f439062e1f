"""3.x's path for the classes in :mod:`django_prodserver.backends.base`."""

from django_prodserver.backends.base import BaseWorkerBackend

__all__ = ["BaseWorkerBackend"]

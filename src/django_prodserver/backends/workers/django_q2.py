"""3.x's path for the classes in :mod:`django_prodserver.backends.django_q2`."""

from django_prodserver.backends.django_q2 import DjangoQ2Worker

__all__ = ["DjangoQ2Worker"]

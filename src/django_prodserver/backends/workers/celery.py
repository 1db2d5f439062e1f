"""3.x's path for the classes in :mod:`django_prodserver.backends.celery`."""

from django_prodserver.backends.celery import CeleryBeat, CeleryFlower, CeleryWorker

__all__ = ["CeleryBeat", "CeleryFlower", "CeleryWorker"]

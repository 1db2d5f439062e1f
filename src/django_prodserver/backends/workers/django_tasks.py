"""3.x's path for the classes in :mod:`django_prodserver.backends.django_tasks`."""

from django_prodserver.backends.django_tasks import DjangoTasksWorker

__all__ = ["DjangoTasksWorker"]

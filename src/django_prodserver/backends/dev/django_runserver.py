"""``DjangoRunserver``: Django's own ``runserver`` as a process (3.x's development backend).

ARGS are runserver's options: ``addrport``, ``ipv6``, ``noreload``, ``nothreading`` and, with
``django.contrib.staticfiles`` installed, ``nostatic`` and ``insecure``.
"""

from django_prodserver.backends.dev._runserver import RunserverBackend


class DjangoRunserver(RunserverBackend):
    pass


__all__ = ["DjangoRunserver"]

"""``python -m django_prodserver --healthcheck [--ready] [NAME ...]``: the probe for exec health checks.

``manage.py`` sets Django up before any command runs, which imports every installed app and
its models: a large share of a probe that Kubernetes or Docker runs every few seconds. This
entry point reads only the settings module (``DJANGO_SETTINGS_MODULE``, as the worker has it)
and a worker's heartbeat file; only a web process' probe, which needs the server's resolved
address, sets Django up first. Exit 0 when every process is healthy, else 1 with one line each;
``--ready`` checks readiness instead, as ``manage.py prodserver --healthcheck --ready`` does.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_prodserver.conf.health_settings import HealthConfig

USAGE = "usage: python -m django_prodserver --healthcheck [--ready] [NAME ...]"


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "--healthcheck":
        print(USAGE, file=sys.stderr)
        return 2
    ready = "--ready" in argv[1:]
    argv = [arg for arg in argv if arg != "--ready"]
    if any(arg.startswith("-") for arg in argv[1:]):
        print(USAGE, file=sys.stderr)
        return 2
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        print(
            "python -m django_prodserver: DJANGO_SETTINGS_MODULE is not set; set it as the worker "
            "has it (e.g. mysite.settings), or run 'manage.py prodserver --healthcheck'.",
            file=sys.stderr,
        )
        return 2
    from django_prodserver import heartbeat
    from django_prodserver.conf.health_settings import health
    from django_prodserver.conf.processes import process_names
    from django_prodserver.errors import ProdserverError

    failed = False
    try:
        config = health()
        names = argv[1:] or heartbeat.supervised(config) or process_names()[:1]
    except ProdserverError as exc:
        print(exc, file=sys.stderr)
        return 1
    for name in names:
        try:
            print(_check(name, config, ready=ready))
        except ProdserverError as exc:
            print(exc, file=sys.stderr)
            failed = True
    return 1 if failed else 0


def _check(name: str, config: HealthConfig, *, ready: bool) -> str:
    from django_prodserver import heartbeat
    from django_prodserver.conf.processes import get_process

    process = get_process(name)
    # A heartbeat file: the worker wrote it, nothing else needs importing.
    if heartbeat.path(config, name).exists():
        return heartbeat.check(name, config, ready=ready)
    from django_prodserver.loading import backend_class

    if backend_class(process).records_heartbeat:
        return heartbeat.check(name, config, ready=ready)  # says that there is none
    import django

    django.setup()
    from django_prodserver.healthcheck import check
    from django_prodserver.loading import load_backend

    return check(load_backend(get_process(name)), ready=ready)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

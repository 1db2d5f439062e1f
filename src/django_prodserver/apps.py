import sys
from types import ModuleType

from django.apps import AppConfig

from django_prodserver import collector


class ProdserverConfig(AppConfig):
    name = "django_prodserver"
    verbose_name = "Production server"

    def __init__(self, app_name: str, app_module: ModuleType | None) -> None:
        super().__init__(app_name, app_module)
        # Django creates the app configs before it imports any app's models: a start pauses
        # the collector from here, not only from the command's execute() (collector.py).
        if collector.starts_a_process(sys.argv):
            collector.pause()

    def ready(self) -> None:
        # Imported for its side effect: registering the system checks.
        from django_prodserver import checks  # noqa: F401

        if collector.starts_a_process(sys.argv):
            from django.core.management import get_commands

            # Another app's command of the same name runs instead of ours: it gets the
            # collector back (get_commands() is cached; the command's lookup reuses it).
            if get_commands().get(sys.argv[1]) != self.name:
                collector.resume()

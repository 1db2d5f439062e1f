from django.apps import AppConfig


class ProdserverConfig(AppConfig):
    name = "django_prodserver"
    verbose_name = "Production server"

    def ready(self) -> None:
        # Imported for its side effect: registering the system checks.
        from django_prodserver import checks  # noqa: F401

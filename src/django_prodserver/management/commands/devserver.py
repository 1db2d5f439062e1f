from django.core.management.commands.runserver import Command as RunserverCommand


class Command(RunserverCommand):
    """Django's ``runserver`` under the name the public django-prodserver gave it."""

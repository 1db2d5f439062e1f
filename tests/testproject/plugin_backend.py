"""A plug-in's backend module that requires its program as it is imported, as plug-ins may.

test_errors.py names it as a BACKEND: on a machine without the program that stays the
plug-in's own one line (E003, a deploy check), not an import error of the backend (E002).
"""

from django_prodserver.backends.gunicorn import GunicornServer
from django_prodserver.importing import require

require(
    "prodserver_test_missing_program",
    process="web",
    backend="PluginServer",
    what="the plug-in's program",
    extra="plugin",
)


class PluginServer(GunicornServer):
    pass

"""A backend module that imports a package this machine does not have.

test_errors.py names it as a BACKEND: one line naming the missing module, with the
traceback behind --traceback, unlike a BACKEND path that simply does not exist.
"""

import prodserver_test_missing_dependency  # noqa: F401

from django_prodserver.backends.gunicorn import GunicornServer


class Server(GunicornServer):
    pass

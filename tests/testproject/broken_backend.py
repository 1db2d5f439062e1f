"""A backend module with a bug of its own: it imports something that is not installed.

test_errors.py names it as a BACKEND to check that this is reported with its traceback,
unlike a BACKEND path that simply does not exist.
"""

import prodserver_test_missing_dependency  # noqa: F401

from django_prodserver.backends.gunicorn import GunicornServer


class Server(GunicornServer):
    pass

"""Put this directory first on PYTHONPATH to run as if celery were not installed.

Importing ``celery`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``celery``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'celery'", name="celery")

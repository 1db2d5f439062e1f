"""Put this directory first on PYTHONPATH to run as if django_tasks_db were not installed.

Importing ``django_tasks_db`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``django_tasks_db``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'django_tasks_db'", name="django_tasks_db")

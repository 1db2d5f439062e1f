"""Put this directory first on PYTHONPATH to run as if django_extensions were not installed.

Importing ``django_extensions`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``django_extensions``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'django_extensions'", name="django_extensions")

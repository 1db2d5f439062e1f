"""Put this directory first on PYTHONPATH to run as if django_q were not installed.

Importing ``django_q`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``django_q``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'django_q'", name="django_q")

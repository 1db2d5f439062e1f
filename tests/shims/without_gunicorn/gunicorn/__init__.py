"""Put this directory first on PYTHONPATH to run as if gunicorn were not installed.

Importing ``gunicorn`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``gunicorn``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'gunicorn'", name="gunicorn")

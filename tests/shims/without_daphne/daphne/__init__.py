"""Put this directory first on PYTHONPATH to run as if daphne were not installed.

Importing ``daphne`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``daphne``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'daphne'", name="daphne")

"""Put this directory first on PYTHONPATH to run as if hypercorn were not installed.

Importing ``hypercorn`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``hypercorn``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'hypercorn'", name="hypercorn")

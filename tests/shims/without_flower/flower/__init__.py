"""Put this directory first on PYTHONPATH to run as if flower were not installed.

Importing ``flower`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``flower``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'flower'", name="flower")

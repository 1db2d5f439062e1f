"""Put this directory first on PYTHONPATH to run as if granian were not installed.

Importing ``granian`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``granian``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'granian'", name="granian")

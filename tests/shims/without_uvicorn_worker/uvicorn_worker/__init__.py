"""Put this directory first on PYTHONPATH to run as if uvicorn_worker were not installed.

Importing ``uvicorn_worker`` then fails exactly as it does when the package is absent
(``ModuleNotFoundError`` naming ``uvicorn_worker``), while the real installation stays untouched.
"""

raise ModuleNotFoundError("No module named 'uvicorn_worker'", name="uvicorn_worker")

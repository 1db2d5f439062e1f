"""A module with a bug of its own, named as an APP or a BACKEND: importing it raises."""

raise RuntimeError("the broker password is not configured")

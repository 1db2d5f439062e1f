"""An APP module with a bug of its own: importing it raises (tests tell this from a wrong path)."""

raise RuntimeError("the broker password is not configured")

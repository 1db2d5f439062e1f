"""The 3.x module paths of the workers: ``backends.workers.<program>``, the same classes."""

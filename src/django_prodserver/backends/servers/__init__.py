"""The 3.x module paths of the web servers: ``backends.servers.<program>``, the same classes."""

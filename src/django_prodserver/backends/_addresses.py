"""``host:port`` strings → TCP addresses, for servers whose own parser we cannot call.

Gunicorn has one (``gunicorn.util.parse_address``) and its backend uses it; hypercorn,
uWSGI and waitress split their bind strings inline where they open sockets, so their
backends share this one reading of the same syntax.
"""

from __future__ import annotations

#: Bind prefixes that name a Unix socket or an inherited file descriptor, not a TCP address.
NOT_TCP = ("unix:", "fd://", "/", "@", "=")


def tcp_address(bind: str, *, default_host: str, default_port: int | None) -> tuple[str, int] | None:
    """``"[::1]:8000"`` → ``("::1", 8000)``; None for a socket path, or a missing port without default."""
    bind = bind.strip()
    if not bind or bind.startswith(NOT_TCP):
        return None
    if bind.startswith("["):
        host, _, rest = bind[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, separator, port = bind.rpartition(":")
        if not separator:
            host, port = bind, ""
    if not port:
        return None if default_port is None else (host or default_host, default_port)
    return host or default_host, int(port)

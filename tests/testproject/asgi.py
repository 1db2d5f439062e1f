"""Django's ASGI app, plus a bare websocket echo at /ws/echo/ (no Channels needed)."""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
django_application = get_asgi_application()


async def websocket_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo: " + (event.get("text") or "")})
        else:
            return


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await websocket_echo(scope, receive, send)
    else:
        await django_application(scope, receive, send)

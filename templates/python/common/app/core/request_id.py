"""``X-Request-ID`` end to end: taken from the request (or made), returned, logged, sent to ULM.

A plain ASGI middleware (no ``BaseHTTPMiddleware``: that one costs a task per request). An id
the caller sends is kept when it looks like an id (letters, digits, ``._:-``, at most 128
characters); anything else is replaced, so a log line never carries what a caller typed freely.
"""

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import request_id

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _taken_or_made(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _VALID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _taken_or_made(scope)
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", rid.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
        # Not reset when the app raised: the 500 handler (outside this middleware, in Starlette's
        # ServerErrorMiddleware) still logs with the id, and adds the header to its answer.
        request_id.reset(token)

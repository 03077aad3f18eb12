"""The fake ULM (tests/fake_ulm.py) over real HTTP, on a free loopback port, in the test's loop."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.types import Receive, Scope, Send

from tests.fake_ulm import FakeULM


class _Asgi:
    def __init__(self, fake: FakeULM) -> None:
        self.fake = fake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        query = scope["query_string"].decode()
        request = httpx.Request(
            scope["method"],
            f"http://ulm{scope['path']}" + (f"?{query}" if query else ""),
            headers=[(k.decode(), v.decode()) for k, v in scope["headers"]],
        )
        try:
            response = await self.fake(request)
        except httpx.ConnectError:
            response = httpx.Response(503)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": response.content})


@asynccontextmanager
async def serve(fake: FakeULM) -> AsyncIterator[str]:
    """Serves ``fake`` until the block ends; yields its base URL."""
    config = uvicorn.Config(
        _Asgi(fake), host="127.0.0.1", port=0, lifespan="off", log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task

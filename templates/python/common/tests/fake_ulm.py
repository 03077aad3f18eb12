"""An in-memory stand-in for ULM's API, behind ``httpx.MockTransport``: no network.

* ``users``   - what ``/api/v1/users`` serves;
* ``tokens``  - access token -> user id, for the auth endpoint (``TOKEN``: u-1, ``OTHER_TOKEN``: u-2);
* ``down``    - every call fails to connect;
* ``status``  - every call answers this HTTP status;
* ``hang``    - every call waits forever (until the client gives up);
* ``requests`` - what it was asked, in order; ``on_request`` is called with each.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

FAKE_ULM_URL = "http://ulm.test"
AUTH_PATH = "/api/v1/auth/me"
TOKEN = "good-token"
OTHER_TOKEN = "other-token"


class FakeULM:
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {
            "u-1": {"id": "u-1", "email": "ada@example.com", "name": "Ada Lovelace", "password_hash": "x"},
            "u-2": {"id": "u-2", "email": "alan@example.com", "name": "Alan Turing", "roles": ["admin"]},
        }
        self.tokens: dict[str, str] = {TOKEN: "u-1", OTHER_TOKEN: "u-2"}
        self.down = False
        self.hang = False
        self.status: int | None = None
        self.requests: list[httpx.Request] = []
        self.on_request: Callable[[httpx.Request], None] | None = None

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.on_request is not None:
            self.on_request(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.hang:
            await asyncio.Event().wait()
        if self.status is not None:
            return httpx.Response(self.status, json={"detail": "fake ULM error"})
        path = request.url.path
        if path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        if path == AUTH_PATH:
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            user_id = self.tokens.get(token)
            if user_id is None:
                return httpx.Response(401, json={"detail": "Not authenticated"})
            return httpx.Response(200, json=self.users[user_id])
        if path == "/api/v1/users":
            ids = request.url.params.get("ids", "").split(",")
            return httpx.Response(200, json=[self.users[i] for i in ids if i in self.users])
        prefix = "/api/v1/users/"
        if path.startswith(prefix):
            user = self.users.get(path[len(prefix) :])
            if user is None:
                return httpx.Response(404, json={"detail": "User not found"})
            return httpx.Response(200, json=user)
        return httpx.Response(404, json={"detail": "Not Found"})

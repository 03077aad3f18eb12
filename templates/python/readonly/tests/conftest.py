"""Shared fixtures.

* ``fake_ulm`` / ``ulm_client`` - a fake ULM behind ``httpx.MockTransport``;
  no network, no real ULM.
* ``client`` - an httpx AsyncClient talking to the app in-process, with
  ``get_ulm_client`` overridden by the fixtures above.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.clients.ulm import ULMClient, get_ulm_client
from app.main import app

FAKE_ULM_URL = "http://ulm.test"


class FakeULM:
    """In-memory stand-in for ULM's user API.

    Set ``down = True`` to make every call fail to connect, or ``status`` to an
    HTTP status to make every call answer with it.
    """

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {
            "u-1": {"id": "u-1", "email": "ada@example.com", "name": "Ada Lovelace"},
            "u-2": {"id": "u-2", "email": "alan@example.com", "name": "Alan Turing"},
        }
        self.down = False
        self.status: int | None = None
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.status is not None:
            return httpx.Response(self.status, json={"detail": "fake ULM error"})
        path = request.url.path
        if path == "/api/v1/users":
            ids = request.url.params.get("ids", "").split(",")
            return httpx.Response(200, json=[self.users[i] for i in ids if i in self.users])
        prefix = "/api/v1/users/"
        if path.startswith(prefix):
            user = self.users.get(path[len(prefix):])
            if user is None:
                return httpx.Response(404, json={"detail": "User not found"})
            return httpx.Response(200, json=user)
        return httpx.Response(404, json={"detail": "Not Found"})


@pytest.fixture
def fake_ulm() -> FakeULM:
    return FakeULM()


@pytest.fixture
async def ulm_client(fake_ulm: FakeULM) -> AsyncIterator[ULMClient]:
    client = ULMClient(FAKE_ULM_URL, transport=httpx.MockTransport(fake_ulm), backoff_base=0)
    yield client
    await client.aclose()


@pytest.fixture
async def client(ulm_client: ULMClient) -> AsyncIterator[httpx.AsyncClient]:
    app.dependency_overrides[get_ulm_client] = lambda: ulm_client
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    app.dependency_overrides.clear()

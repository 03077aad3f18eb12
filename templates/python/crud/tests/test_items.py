"""/items against a SQLite database and the fake ULM (see conftest.py)."""

from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.core.database import create_sessions, get_sessions
from app.main import app
from tests.fake_ulm import FakeULM


async def create(client: httpx.AsyncClient, name: str = "Widget", owner: str = "u-1") -> dict[str, Any]:
    response = await client.post("/items", json={"name": name, "owner_user_id": owner})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_item(client: httpx.AsyncClient) -> None:
    item = await create(client)

    assert item["id"] >= 1
    assert item["name"] == "Widget"
    assert item["owner_user_id"] == "u-1"
    assert item["created_at"]


async def test_create_item_with_unknown_owner_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"name": "Widget", "owner_user_id": "ghost"})

    assert response.status_code == 422
    assert response.json()["code"] == "owner_not_found"
    assert "ghost" in response.json()["detail"]


async def test_create_item_while_ulm_is_down_is_503(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    await client.get("/items")  # the token is checked, and cached
    fake_ulm.down = True

    response = await client.post("/items", json={"name": "Widget", "owner_user_id": "u-1"})

    assert response.status_code == 503
    assert (await client.get("/items")).json() == []


async def test_create_item_validates_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"name": "", "owner_user_id": "u-1"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


async def test_list_items_oldest_first(client: httpx.AsyncClient) -> None:
    await create(client, "A")
    await create(client, "B", owner="u-2")

    response = await client.get("/items")

    assert response.status_code == 200
    assert [i["name"] for i in response.json()] == ["A", "B"]


async def test_list_items_pages_with_limit_and_offset(client: httpx.AsyncClient) -> None:
    for name in "ABCD":
        await create(client, name)

    page = await client.get("/items", params={"limit": 2, "offset": 1})

    assert [i["name"] for i in page.json()] == ["B", "C"]
    default = await client.get("/items", params={"offset": 3})
    assert [i["name"] for i in default.json()] == ["D"]


async def test_list_items_refuses_a_limit_over_200(client: httpx.AsyncClient) -> None:
    assert (await client.get("/items", params={"limit": 201})).status_code == 422
    assert (await client.get("/items", params={"limit": 0})).status_code == 422


async def test_get_item_with_its_owner_allow_listed(client: httpx.AsyncClient) -> None:
    item = await create(client)

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 200
    body = response.json()
    assert body["item"] == item
    assert body["owner"] == {"id": "u-1", "email": "ada@example.com", "name": "Ada Lovelace"}


async def test_missing_item_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/999")

    assert response.status_code == 404
    assert response.json() == {"code": "item_not_found", "detail": "Item 999 not found"}


async def test_owner_deleted_in_ulm_is_404_without_naming_the_user(
    client: httpx.AsyncClient, fake_ulm: FakeULM
) -> None:
    item = await create(client)
    del fake_ulm.users["u-1"]
    fake_ulm.tokens.clear()  # the token stays cached

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 404
    assert response.json()["code"] == "owner_not_found"
    assert "u-1" not in response.text


async def test_ulm_down_is_503_not_500(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    item = await create(client)
    fake_ulm.down = True

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 503
    assert response.json()["code"] == "ulm_unavailable"
    assert "Retry-After" in response.headers


async def test_ulm_5xx_is_503(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    item = await create(client)
    fake_ulm.status = 503

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 503


async def test_items_need_a_token(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/items")).status_code == 401
    assert (await anonymous.post("/items", json={"name": "W", "owner_user_id": "u-1"})).status_code == 401
    assert (await anonymous.get("/items/1")).status_code == 401


async def test_no_connection_is_held_while_ulm_is_asked(
    client: httpx.AsyncClient, fake_ulm: FakeULM, engine: AsyncEngine
) -> None:
    item = await create(client)
    held: list[int] = []
    fake_ulm.on_request = lambda request: held.append(engine.pool.checkedout())  # type: ignore[attr-defined]

    assert (await client.get(f"/items/{item['id']}")).status_code == 200
    assert (await client.post("/items", json={"name": "W", "owner_user_id": "u-2"})).status_code == 201

    assert held == [0, 0]


async def test_database_down_is_503_with_retry_after(anonymous: httpx.AsyncClient) -> None:
    broken = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/nope.db")
    app.dependency_overrides[get_sessions] = lambda: create_sessions(broken)
    anonymous.headers["Authorization"] = "Bearer good-token"
    try:
        listed = await anonymous.get("/items")
        one = await anonymous.get("/items/1")
        posted = await anonymous.post("/items", json={"name": "W", "owner_user_id": "u-1"})
    finally:
        await broken.dispose()

    for response in (listed, one, posted):
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "database_unavailable"
        assert response.headers["Retry-After"] == "5"
        assert "nonexistent" not in response.text


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed ('10.0.0.5', 5432)"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        sa_exc.DBAPIError("SELECT 1", None, ConnectionResetError("reset by 10.0.0.5"), connection_invalidated=True),
        sa_exc.TimeoutError("QueuePool limit of size 20 overflow 10 reached"),
        TimeoutError(),
    ],
)
async def test_outages_are_503_naming_no_address(client: httpx.AsyncClient, error: Exception) -> None:
    class Failing:
        async def __aenter__(self) -> AsyncSession:
            raise error

        async def __aexit__(self, *exc: object) -> None:
            return None

    app.dependency_overrides[get_sessions] = lambda: Failing

    response = await client.get("/items")

    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert "10.0.0.5" not in response.text
    assert "QueuePool" not in response.text

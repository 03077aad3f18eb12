"""/api/v1/items against a SQLite database and the fake ULM (see conftest.py).

Two callers: Ada (``TOKEN``, ULM user u-1) and Alan (``OTHER_TOKEN``, u-2).
"""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.clients.ulm import ULMClient
from tests.fake_ulm import OTHER_TOKEN, FakeULM

ITEMS = "/api/v1/items"
ALAN = {"Authorization": f"Bearer {OTHER_TOKEN}"}


async def create(client: httpx.AsyncClient, name: str = "Widget", **extra: Any) -> dict[str, Any]:
    response = await client.post(ITEMS, json={"name": name, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_item_owned_by_the_caller(client: httpx.AsyncClient) -> None:
    response = await client.post(ITEMS, json={"name": "Widget", "description": "blue"})

    assert response.status_code == 201
    item = response.json()
    assert item["id"] >= 1
    assert (item["name"], item["description"], item["owner_user_id"]) == ("Widget", "blue", "u-1")
    assert item["created_at"]
    assert response.headers["Location"].endswith(f"{ITEMS}/{item['id']}")
    assert (await client.post(ITEMS, json={"name": "W"}, headers=ALAN)).json()["owner_user_id"] == "u-2"


async def test_the_body_cannot_name_an_owner(client: httpx.AsyncClient) -> None:
    response = await client.post(ITEMS, json={"name": "Widget", "owner_user_id": "u-2"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "owner_user_id"]


async def test_create_item_validates_body(client: httpx.AsyncClient) -> None:
    response = await client.post(ITEMS, json={"name": ""})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


async def test_list_items_oldest_first_in_pages(client: httpx.AsyncClient) -> None:
    for name in "ABCD":
        await create(client, name)

    first = (await client.get(ITEMS, params={"limit": 2})).json()
    last = (await client.get(ITEMS, params={"limit": 2, "offset": first["next_offset"]})).json()

    assert [i["name"] for i in first["items"]] == ["A", "B"]
    assert (first["limit"], first["offset"], first["next_offset"]) == (2, 0, 2)
    assert [i["name"] for i in last["items"]] == ["C", "D"]
    assert last["next_offset"] is None


async def test_list_items_refuses_a_limit_over_the_page_max(client: httpx.AsyncClient) -> None:
    assert (await client.get(ITEMS, params={"limit": 101})).status_code == 422
    assert (await client.get(ITEMS, params={"limit": 0})).status_code == 422
    assert (await client.get(ITEMS, params={"offset": -1})).status_code == 422


async def test_get_item_with_its_owner_allow_listed(client: httpx.AsyncClient) -> None:
    item = await create(client)
    await create(client, "Other")

    response = await client.get(f"{ITEMS}/{item['id']}", headers=ALAN)  # any caller may read

    assert response.status_code == 200
    body = response.json()
    assert body["item"] == item
    assert body["owner"] == {"id": "u-1", "email": "ada@example.com", "name": "Ada Lovelace"}


async def test_the_owner_is_asked_of_ulm_once_then_cached(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    item = await create(client)

    for _ in range(3):
        assert (await client.get(f"{ITEMS}/{item['id']}")).status_code == 200

    assert fake_ulm.paths().count("/api/v1/users/u-1") == 1


async def test_missing_item_is_404(client: httpx.AsyncClient) -> None:
    await create(client)

    response = await client.get(f"{ITEMS}/999")

    assert response.status_code == 404
    assert response.json() == {"code": "item_not_found", "detail": "Item 999 not found"}


async def test_the_owner_updates_with_patch(client: httpx.AsyncClient) -> None:
    item = await create(client, description="old")

    renamed = await client.patch(f"{ITEMS}/{item['id']}", json={"name": "Gadget"})
    cleared = await client.patch(f"{ITEMS}/{item['id']}", json={"description": None})

    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["description"]) == ("Gadget", "old")
    assert (cleared.json()["name"], cleared.json()["description"]) == ("Gadget", None)
    assert (await client.get(f"{ITEMS}/{item['id']}")).json()["item"]["name"] == "Gadget"


async def test_the_owner_replaces_with_put(client: httpx.AsyncClient) -> None:
    item = await create(client, description="old")

    replaced = await client.put(f"{ITEMS}/{item['id']}", json={"name": "Gadget"})

    assert replaced.status_code == 200
    assert replaced.json() | {"updated_at": None} == item | {"name": "Gadget", "description": None, "updated_at": None}
    assert (await client.get(f"{ITEMS}/{item['id']}")).json()["item"]["name"] == "Gadget"
    for body in ({}, {"description": "no name"}, {"name": ""}, {"name": "x", "owner_user_id": "u-2"}):
        assert (await client.put(f"{ITEMS}/{item['id']}", json=body)).status_code == 422, body


async def test_patch_validates(client: httpx.AsyncClient) -> None:
    item = await create(client)

    for body in ({"name": None}, {"name": ""}, {"owner_user_id": "u-2"}):
        assert (await client.patch(f"{ITEMS}/{item['id']}", json=body)).status_code == 422, body


async def test_the_owner_deletes(client: httpx.AsyncClient) -> None:
    item = await create(client)
    kept = await create(client, "Kept")

    response = await client.delete(f"{ITEMS}/{item['id']}")

    assert response.status_code == 204
    assert (await client.get(f"{ITEMS}/{item['id']}")).status_code == 404
    assert (await client.delete(f"{ITEMS}/{item['id']}")).status_code == 404
    assert [i["id"] for i in (await client.get(ITEMS)).json()["items"]] == [kept["id"]]


async def test_another_caller_may_not_change_or_delete(client: httpx.AsyncClient) -> None:
    item = await create(client)

    patched = await client.patch(f"{ITEMS}/{item['id']}", json={"name": "Mine now"}, headers=ALAN)
    replaced = await client.put(f"{ITEMS}/{item['id']}", json={"name": "Mine now"}, headers=ALAN)
    deleted = await client.delete(f"{ITEMS}/{item['id']}", headers=ALAN)

    for response in (patched, replaced, deleted):
        assert response.status_code == 403
        assert response.json()["code"] == "not_owner"
    assert (await client.get(f"{ITEMS}/{item['id']}")).json()["item"] == item
    assert (await client.patch(f"{ITEMS}/999", json={"name": "x"}, headers=ALAN)).status_code == 404
    assert (await client.put(f"{ITEMS}/999", json={"name": "x"}, headers=ALAN)).status_code == 404


async def test_owner_deleted_in_ulm_is_404_without_naming_the_user(
    client: httpx.AsyncClient, fake_ulm: FakeULM
) -> None:
    item = await create(client)
    del fake_ulm.users["u-1"]
    fake_ulm.tokens.clear()  # the token stays cached

    response = await client.get(f"{ITEMS}/{item['id']}")

    assert response.status_code == 404
    assert response.json()["code"] == "owner_not_found"
    assert "u-1" not in response.text


async def test_ulm_down_is_503_not_500(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    item = await create(client)
    fake_ulm.down = True

    response = await client.get(f"{ITEMS}/{item['id']}")

    assert response.status_code == 503
    assert response.json()["code"] == "ulm_unavailable"
    assert "Retry-After" in response.headers


async def test_ulm_too_slow_is_504(client: httpx.AsyncClient, fake_ulm: FakeULM, ulm_client: ULMClient) -> None:
    item = await create(client)
    fake_ulm.hang = True
    ulm_client.timeout = 0.2

    response = await client.get(f"{ITEMS}/{item['id']}")

    assert response.status_code == 504
    assert response.json()["code"] == "ulm_timeout"


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "PUT", "DELETE"])
async def test_items_need_a_token(anonymous: httpx.AsyncClient, method: str) -> None:
    path = ITEMS if method in ("GET", "POST") else f"{ITEMS}/1"
    json = {"name": "W"} if method in ("POST", "PATCH", "PUT") else None

    assert (await anonymous.request(method, path, json=json)).status_code == 401


async def test_no_connection_is_held_while_ulm_is_asked(
    client: httpx.AsyncClient, fake_ulm: FakeULM, engine: AsyncEngine
) -> None:
    item = await create(client)
    held: list[int] = []
    fake_ulm.on_request = lambda request: held.append(engine.pool.checkedout())  # type: ignore[attr-defined]

    assert (await client.get(f"{ITEMS}/{item['id']}")).status_code == 200

    assert held == [0]

"""/items against in-memory SQLite and the fake ULM (see conftest.py)."""

import httpx


async def create(client: httpx.AsyncClient, name: str = "Widget", owner: str = "u-1") -> dict:
    response = await client.post("/items", json={"name": name, "owner_user_id": owner})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_item(client: httpx.AsyncClient) -> None:
    item = await create(client)

    assert item["id"] >= 1
    assert item["name"] == "Widget"
    assert item["owner_user_id"] == "u-1"
    assert item["created_at"]


async def test_create_item_with_unknown_owner_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"name": "Widget", "owner_user_id": "ghost"})

    assert response.status_code == 422
    assert "ghost" in response.json()["detail"]


async def test_create_item_while_ulm_is_down_is_503(client: httpx.AsyncClient, fake_ulm) -> None:
    fake_ulm.down = True

    response = await client.post("/items", json={"name": "Widget", "owner_user_id": "u-1"})

    assert response.status_code == 503


async def test_create_item_validates_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"name": "", "owner_user_id": "u-1"})

    assert response.status_code == 422


async def test_list_items(client: httpx.AsyncClient) -> None:
    await create(client, "A")
    await create(client, "B", owner="u-2")

    response = await client.get("/items")

    assert response.status_code == 200
    assert [i["name"] for i in response.json()] == ["A", "B"]


async def test_get_item_with_owner_from_ulm(client: httpx.AsyncClient) -> None:
    item = await create(client)

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 200
    body = response.json()
    assert body["item"] == item
    assert body["owner"] == {"id": "u-1", "email": "ada@example.com", "name": "Ada Lovelace"}


async def test_missing_item_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/999")

    assert response.status_code == 404
    assert response.json()["detail"] == "Item 999 not found"


async def test_owner_deleted_in_ulm_is_404_naming_the_user(client: httpx.AsyncClient, fake_ulm) -> None:
    item = await create(client)
    del fake_ulm.users["u-1"]

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 404
    assert "'u-1'" in response.json()["detail"]


async def test_ulm_down_is_503_not_500(client: httpx.AsyncClient, fake_ulm) -> None:
    item = await create(client)
    fake_ulm.down = True

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 503
    assert "ULM" in response.json()["detail"]


async def test_ulm_5xx_is_503(client: httpx.AsyncClient, fake_ulm) -> None:
    item = await create(client)
    fake_ulm.status = 503

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 503

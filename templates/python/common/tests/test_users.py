"""Example ULM-backed routes: GET /users/{id} and GET /users?ids=..."""

import httpx


async def test_read_user(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/u-1")

    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"


async def test_unknown_user_is_404_naming_the_user(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/nobody")

    assert response.status_code == 404
    assert "nobody" in response.json()["detail"]


async def test_read_users_by_ids(client: httpx.AsyncClient) -> None:
    response = await client.get("/users", params={"ids": "u-1,u-2,missing"})

    assert response.status_code == 200
    assert [u["id"] for u in response.json()] == ["u-1", "u-2"]


async def test_ulm_down_is_503(client: httpx.AsyncClient, fake_ulm) -> None:
    fake_ulm.down = True

    response = await client.get("/users/u-1")

    assert response.status_code == 503
    assert "ULM" in response.json()["detail"]


async def test_ulm_500_is_503_not_500(client: httpx.AsyncClient, fake_ulm) -> None:
    fake_ulm.status = 500

    response = await client.get("/users/u-1")

    assert response.status_code == 503


async def test_ulm_refusing_our_token_is_502(client: httpx.AsyncClient, fake_ulm) -> None:
    fake_ulm.status = 401

    response = await client.get("/users/u-1")

    assert response.status_code == 502
    assert "ULM_SERVICE_TOKEN" in response.json()["detail"]

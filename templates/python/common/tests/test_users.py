"""Example ULM-backed routes: GET /users/{id} and GET /users?ids=..."""

import httpx
import pytest

from tests.fake_ulm import FakeULM


async def test_read_user_shows_only_the_allow_listed_fields(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/u-1")

    assert response.status_code == 200
    assert response.json() == {"id": "u-1", "email": "ada@example.com", "name": "Ada Lovelace"}


async def test_unknown_user_is_404_naming_the_user(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/nobody")

    assert response.status_code == 404
    assert response.json()["code"] == "user_not_found"
    assert "nobody" in response.json()["detail"]


async def test_read_users_by_ids(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users", params={"ids": "u-1,u-2,missing"})

    assert response.status_code == 200
    assert [u["id"] for u in response.json()] == ["u-1", "u-2"]
    assert "roles" not in response.json()[1]


async def test_ulm_down_is_503_with_retry_after(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    await client.get("/api/v1/users/u-2")  # the token is checked, and cached
    fake_ulm.down = True

    response = await client.get("/api/v1/users/u-1")

    assert response.status_code == 503
    assert response.json()["code"] == "ulm_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert "ulm.test" not in response.text


async def test_ulm_500_is_503_not_500(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    await client.get("/api/v1/users/u-2")
    fake_ulm.status = 500

    response = await client.get("/api/v1/users/u-1")

    assert response.status_code == 503


async def test_ulm_refusing_our_service_token_is_502_and_says_why_in_the_log(
    client: httpx.AsyncClient, fake_ulm: FakeULM, caplog: pytest.LogCaptureFixture
) -> None:
    await client.get("/api/v1/users/u-2")
    fake_ulm.status = 403

    response = await client.get("/api/v1/users/u-1")

    assert response.status_code == 502
    assert response.json()["code"] == "ulm_bad_answer"
    assert "/api/v1" not in response.text
    assert "ULM_SERVICE_TOKEN" in caplog.text


async def test_a_user_ulm_returned_is_reused_for_a_while(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    first = await client.get("/api/v1/users/u-1")
    fake_ulm.down = True  # a cached user needs no ULM

    again = await client.get("/api/v1/users/u-1")

    assert (first.status_code, again.status_code) == (200, 200)
    assert fake_ulm.paths().count("/api/v1/users/u-1") == 1

"""Callers are authenticated with ULM's auth endpoint; /health/* stays open."""

import httpx

from tests.fake_ulm import AUTH_PATH, FakeULM


async def test_no_token_is_401(anonymous: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    response = await anonymous.get("/api/v1/users/u-1")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert fake_ulm.requests == []


async def test_a_token_ulm_rejects_is_401(anonymous: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    response = await anonymous.get("/api/v1/users/u-1", headers={"Authorization": "Bearer forged"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert fake_ulm.paths() == [AUTH_PATH]
    assert fake_ulm.requests[0].headers["Authorization"] == "Bearer forged"


async def test_another_scheme_is_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/v1/users/u-1", headers={"Authorization": "Basic dTpw"})

    assert response.status_code == 401


async def test_an_accepted_token_is_asked_about_once(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    assert (await client.get("/api/v1/users/u-1")).status_code == 200
    assert (await client.get("/api/v1/users/u-2")).status_code == 200

    assert fake_ulm.paths().count(AUTH_PATH) == 1


async def test_ulm_down_while_checking_a_token_is_503(client: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    fake_ulm.down = True

    response = await client.get("/api/v1/users/u-1")

    assert response.status_code == 503


async def test_health_needs_no_token(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/health/live")).status_code == 200

"""GET /health/live: the process answers, whatever its dependencies do."""

import httpx

from tests.fake_ulm import FakeULM


async def test_live_is_ok_without_asking_anything(anonymous: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    fake_ulm.down = True

    response = await anonymous.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "app": "{{app.slug}}"}
    assert fake_ulm.requests == []


async def test_health_is_not_versioned_and_the_api_is(anonymous: httpx.AsyncClient) -> None:
    paths = (await anonymous.get("/openapi.json")).json()["paths"]

    assert {p for p in paths if not p.startswith("/api/v1/")} == {"/health/live", "/health/ready"}
    assert (await anonymous.get("/docs")).status_code == 200

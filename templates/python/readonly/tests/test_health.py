"""GET /health."""

import httpx


async def test_health_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "app": "{{app.slug}}"}


async def test_health_does_not_call_ulm(client: httpx.AsyncClient, fake_ulm) -> None:
    fake_ulm.down = True

    response = await client.get("/health")

    assert response.status_code == 200
    assert fake_ulm.requests == []

"""The shared ULM client is built from the settings: each one reaches the client."""

import httpx
import pytest
from pydantic import SecretStr

from app.clients.ulm import close_ulm_client, get_ulm_client
from app.core.config import settings


@pytest.fixture
async def shared() -> None:
    await close_ulm_client()


async def test_each_ulm_setting_reaches_the_shared_client(monkeypatch: pytest.MonkeyPatch, shared: None) -> None:
    monkeypatch.setattr(settings, "ULM_BASE_URL", "http://ulm.example:9000/")
    monkeypatch.setattr(settings, "ULM_TIMEOUT", 2.5)
    monkeypatch.setattr(settings, "ULM_AUTH_PATH", "/auth/whoami")
    monkeypatch.setattr(settings, "ULM_HEALTH_PATH", "/healthz")
    monkeypatch.setattr(settings, "AUTH_CACHE_TTL", 12.0)
    monkeypatch.setattr(settings, "ULM_BREAKER_THRESHOLD", 7)
    monkeypatch.setattr(settings, "ULM_BREAKER_COOLDOWN", 3.0)

    client = await get_ulm_client()

    assert client.base_url == "http://ulm.example:9000"
    assert client.timeout == 2.5
    assert client.auth_path == "/auth/whoami"
    assert client.health_path == "/healthz"
    assert client.auth_cache_ttl == 12.0
    assert client.breaker.threshold == 7
    assert client.breaker.cooldown == 3.0
    await close_ulm_client()


async def test_the_service_token_setting_is_sent(monkeypatch: pytest.MonkeyPatch, shared: None) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "u-1"})

    real_client = httpx.AsyncClient

    def with_mock(**kwargs: object) -> httpx.AsyncClient:
        return real_client(**{**kwargs, "transport": httpx.MockTransport(handler)})  # type: ignore[arg-type]

    monkeypatch.setattr(settings, "ULM_SERVICE_TOKEN", SecretStr("svc-secret"))
    monkeypatch.setattr(httpx, "AsyncClient", with_mock)

    await (await get_ulm_client()).get_user("u-1")

    assert seen[0].headers["Authorization"] == "Bearer svc-secret"
    await close_ulm_client()


async def test_the_shared_client_is_created_once_and_closed(shared: None) -> None:
    first = await get_ulm_client()
    assert await get_ulm_client() is first
    await close_ulm_client()
    assert first._http.is_closed
    assert await get_ulm_client() is not first
    await close_ulm_client()

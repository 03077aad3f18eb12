"""GET /health/ready of a crud app: its database answers, quickly; ULM is not asked."""

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.api import health
from app.core.database import create_sessions, get_sessions
from app.main import app
from tests.fake_ulm import FakeULM


async def test_ready_checks_the_database(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "app": "{{app.slug}}", "database": "ok"}


async def test_ready_does_not_call_ulm(anonymous: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    fake_ulm.down = True

    response = await anonymous.get("/health/ready")

    assert response.status_code == 200
    assert fake_ulm.requests == []


async def test_ready_is_503_when_the_database_cannot_be_reached(anonymous: httpx.AsyncClient) -> None:
    # A database that cannot be opened stands in for PostgreSQL being down.
    broken = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/nope.db")
    app.dependency_overrides[get_sessions] = lambda: create_sessions(broken)
    try:
        response = await anonymous.get("/health/ready")
    finally:
        await broken.dispose()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {"status": "error", "app": "{{app.slug}}", "database": "unavailable"}


async def test_ready_gives_up_on_a_slow_database_after_its_timeout(
    anonymous: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    class SlowSession:
        async def __aenter__(self) -> "SlowSession":
            await asyncio.sleep(10)
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(health, "READY_TIMEOUT", 0.1)
    app.dependency_overrides[get_sessions] = lambda: SlowSession
    loop = asyncio.get_running_loop()
    started = loop.time()

    response = await anonymous.get("/health/ready")

    assert response.status_code == 503
    assert loop.time() - started < 2


def test_ready_timeout_is_short() -> None:
    assert health.READY_TIMEOUT <= 2

"""GET /health."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.core.database import get_db
from app.main import app


async def test_health_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "app": "{{app.slug}}", "database": "ok"}


async def test_health_does_not_call_ulm(client: httpx.AsyncClient, fake_ulm) -> None:
    fake_ulm.down = True

    response = await client.get("/health")

    assert response.status_code == 200
    assert fake_ulm.requests == []


async def test_health_reports_unreachable_database_as_503(client: httpx.AsyncClient) -> None:
    # A database that cannot be opened stands in for PostgreSQL being down.
    broken = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/nope.db")
    sessions = async_sessionmaker(broken, class_=AsyncSession)

    async def broken_db():
        async with sessions() as session:
            yield session

    app.dependency_overrides[get_db] = broken_db
    try:
        response = await client.get("/health")
    finally:
        await broken.dispose()

    assert response.status_code == 503
    assert response.json() == {"status": "error", "app": "{{app.slug}}", "database": "unavailable"}

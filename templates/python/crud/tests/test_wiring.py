"""Settings reach what they configure, and shutdown closes what the app opened."""

import pytest
from sqlalchemy.pool import QueuePool

from app.clients import ulm
from app.core import database
from app.core.config import settings
from app.main import app, lifespan


async def test_pool_settings_reach_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "DB_POOL_SIZE", 7)
    monkeypatch.setattr(settings, "DB_MAX_OVERFLOW", 3)
    monkeypatch.setattr(settings, "DB_POOL_TIMEOUT", 11)

    engine = database.create_engine("postgresql+asyncpg://u:p@127.0.0.1:1/none")  # never connects
    pool = engine.pool

    assert isinstance(pool, QueuePool)
    assert (pool.size(), pool._max_overflow, pool._timeout) == (7, 3, 11)
    assert pool._pre_ping is True
    assert engine.url.drivername == "postgresql+asyncpg"
    await engine.dispose()


def test_the_app_engine_uses_the_settings() -> None:
    pool = database.engine.pool
    if database.engine.url.drivername.startswith("sqlite"):
        pytest.fail("DATABASE_URL must be a PostgreSQL URL for this check")
    assert isinstance(pool, QueuePool)
    assert (pool.size(), pool._max_overflow, pool._timeout) == (
        settings.DB_POOL_SIZE,
        settings.DB_MAX_OVERFLOW,
        settings.DB_POOL_TIMEOUT,
    )
    assert pool._pre_ping is True


async def test_shutdown_closes_the_ulm_client_and_the_pool() -> None:
    pool = database.engine.pool
    async with lifespan(app):
        client = ulm.get_ulm_client()

    assert client._http.is_closed
    assert database.engine.pool is not pool  # dispose() closed the pool and made a new, empty one

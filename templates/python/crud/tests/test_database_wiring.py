"""The database settings reach the engines: pool, connect, statement and lock bounds, replica."""

import pytest
from sqlalchemy.pool import QueuePool

from app.core import database
from app.core.config import Settings, settings


def _settings(**values: object) -> Settings:
    return Settings.model_validate({**settings.model_dump(), **values})


async def test_pool_and_timeout_settings_reach_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _settings(
        DB_POOL_SIZE=7, DB_MAX_OVERFLOW=3, DB_POOL_TIMEOUT=11, DB_CONNECT_TIMEOUT=2, DB_STATEMENT_TIMEOUT=4,
        DB_LOCK_TIMEOUT=1.5, DB_CLIENT_MARGIN=0.5,
    )  # fmt: skip
    monkeypatch.setattr(database, "settings", config)

    engine = database.create_engine("postgresql+asyncpg://u:p@127.0.0.1:1/none")  # never connects
    pool = engine.pool
    options = database.engine_options(engine.url.render_as_string(), config)

    assert isinstance(pool, QueuePool)
    assert (pool.size(), pool._max_overflow, pool._timeout) == (7, 3, 11)
    assert pool._pre_ping is False  # see engine_options: a restart costs one 503, not a ping per request
    assert engine.url.drivername == "postgresql+asyncpg"
    connect = options["connect_args"]
    assert (connect["timeout"], connect["command_timeout"]) == (2, 4.5)
    assert connect["server_settings"]["statement_timeout"] == "4000"
    assert connect["server_settings"]["lock_timeout"] == "1500"
    await engine.dispose()


def test_behind_pgbouncer_no_startup_parameter_is_sent() -> None:
    # PgBouncer refuses statement_timeout & co. as startup parameters: every connection would fail.
    connect = database.engine_options(
        "postgresql+asyncpg://u:p@pgbouncer:6432/db", _settings(DB_PGBOUNCER=True, DB_STATEMENT_TIMEOUT=4)
    )["connect_args"]

    assert "server_settings" not in connect
    assert connect["command_timeout"] > 4  # the client-side deadline still bounds each statement
    assert connect["statement_cache_size"] == 0


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


async def test_reads_use_the_primary_without_a_read_url() -> None:
    if settings.DATABASE_READ_URL:
        pytest.fail("this check is for an app without DATABASE_READ_URL")
    assert await database.get_read_sessions() is await database.get_sessions()
    assert database.read_engine is database.engine


def test_a_read_url_is_normalised_like_the_primary() -> None:
    config = _settings(DATABASE_READ_URL="postgresql://u:p@replica:5432/db")

    assert config.DATABASE_READ_URL == "postgresql+asyncpg://u:p@replica:5432/db"
    assert _settings(DATABASE_READ_URL=None).DATABASE_READ_URL is None

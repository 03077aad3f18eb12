"""A crud app's test database: a fresh SQLite file per test (aiosqlite, in a file so that it has
a real connection pool), tables created from the models, standing in for both the primary and
the read replica. PostgreSQL is exercised in tests/integration."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.database import BoundedSessions, create_sessions, get_read_sessions, get_sessions
from app.main import app
from app.models import Base


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> BoundedSessions:
    return create_sessions(engine)


@pytest.fixture
def kind_overrides(sessions: BoundedSessions) -> None:
    app.dependency_overrides[get_sessions] = lambda: sessions
    app.dependency_overrides[get_read_sessions] = lambda: sessions

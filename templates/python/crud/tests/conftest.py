"""Shared fixtures.

* ``fake_ulm`` / ``ulm_client`` - the real ULM client over a fake ULM
  (``tests/fake_ulm.py``); no network, no real ULM.
* ``engine`` / ``sessions`` - a fresh SQLite database per test (aiosqlite, in a
  file so that it has a real connection pool), tables created from the models;
  PostgreSQL is exercised in tests/integration.
* ``client`` - an httpx AsyncClient talking to the app in-process, with a valid
  token, and ``get_sessions`` and ``get_ulm_client`` overridden by the above.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.clients.ulm import ULMClient, get_ulm_client
from app.core.database import create_sessions, get_sessions
from app.main import app
from app.models import Base
from tests.fake_ulm import FAKE_ULM_URL, TOKEN, FakeULM


@pytest.fixture
def fake_ulm() -> FakeULM:
    return FakeULM()


@pytest.fixture
async def ulm_client(fake_ulm: FakeULM) -> AsyncIterator[ULMClient]:
    client = ULMClient(FAKE_ULM_URL, transport=httpx.MockTransport(fake_ulm), backoff_base=0)
    yield client
    await client.aclose()


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessions(engine)


@pytest.fixture
async def anonymous(
    ulm_client: ULMClient, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The app, called without a token."""
    app.dependency_overrides[get_sessions] = lambda: sessions
    app.dependency_overrides[get_ulm_client] = lambda: ulm_client
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    app.dependency_overrides.clear()


@pytest.fixture
def client(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    """The app, called with a token ULM accepts."""
    anonymous.headers["Authorization"] = f"Bearer {TOKEN}"
    return anonymous

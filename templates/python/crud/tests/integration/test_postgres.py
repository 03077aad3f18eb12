"""Integration tests against the real PostgreSQL database named by DATABASE_URL.

Run with:  pytest -m integration
DATABASE_URL comes from the environment or backend/.env, e.g.
postgresql://{{app.user}}:<password>@localhost:5432/{{app.db}}.
Without a PostgreSQL DATABASE_URL they fail and say so: plain `pytest` leaves
them out, and a run that asked for them should not pass by skipping them.

The tests first bring the database to the latest migration (alembic upgrade
head, exactly as a deployment does) and remove the rows they create.
"""

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, inspect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.clients.ulm import get_ulm_client
from app.core import database
from app.core.config import settings
from app.main import app
from app.models import Item

BACKEND_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def migrated_database() -> None:
    """alembic upgrade head, in a subprocess (Alembic's env.py runs its own event loop)."""
    if "DATABASE_URL" not in settings.model_fields_set or not settings.DATABASE_URL.startswith("postgresql"):
        pytest.fail("integration tests need DATABASE_URL (environment or .env) set to this app's PostgreSQL database")
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=BACKEND_DIR,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"alembic upgrade head failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    """The app's real engine; disposed after each test (each test has its own event loop)."""
    yield database.engine
    await database.engine.dispose()


async def test_database_is_postgresql_at_head(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert conn.dialect.name == "postgresql"
        assert conn.dialect.driver == "asyncpg"
        tables = await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
    assert "items" in tables
    assert "alembic_version" in tables


async def test_create_and_read_back_item(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    async with sessions() as session:
        item = Item(name="integration widget", owner_user_id="00000000-0000-0000-0000-000000000001")
        session.add(item)
        await session.commit()
        item_id = item.id

    try:
        async with sessions() as session:
            stored = await session.get(Item, item_id)
            assert stored is not None
            assert stored.name == "integration widget"
            assert stored.owner_user_id == "00000000-0000-0000-0000-000000000001"
            assert stored.created_at is not None
            assert stored.created_at.tzinfo is not None
    finally:
        async with sessions() as session:
            await session.execute(delete(Item).where(Item.id == item_id))
            await session.commit()


async def test_items_api_on_postgresql(engine: AsyncEngine, ulm_client) -> None:
    """POST and GET /items through the real get_db (no override); ULM is faked."""
    app.dependency_overrides[get_ulm_client] = lambda: ulm_client
    item_id = None
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            created = await http.post("/items", json={"name": "api widget", "owner_user_id": "u-2"})
            assert created.status_code == 201, created.text
            item_id = created.json()["id"]

            fetched = await http.get(f"/items/{item_id}")
            assert fetched.status_code == 200, fetched.text
            assert fetched.json()["item"]["name"] == "api widget"
            assert fetched.json()["owner"]["email"] == "alan@example.com"

            health = await http.get("/health")
            assert health.json()["database"] == "ok"
    finally:
        app.dependency_overrides.clear()
        if item_id is not None:
            async with engine.begin() as conn:
                await conn.execute(delete(Item).where(Item.id == item_id))


"""Integration tests against the real PostgreSQL database named by DATABASE_URL.

Run with:  pytest -m integration
DATABASE_URL comes from the environment or backend/.env, e.g.
postgresql://{{app.user}}:<password>@localhost:5432/{{app.db}}.
Without a PostgreSQL DATABASE_URL they fail and say so: plain `pytest` leaves
them out, and a run that asked for them should not pass by skipping them.

They run in a schema of their own, created for the run (the app's login owns
its database), migrated with `alembic upgrade head` as a deployment does, and
dropped at the end: they neither see nor touch the rows already there.
"""

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.clients import ulm
from app.clients.ulm import ULMClient
from app.core.config import settings
from app.core.database import BoundedSessions, create_sessions, engine_options, get_read_sessions, get_sessions
from app.main import app
from app.models import Item
from tests.fake_ulm import TOKEN

BACKEND_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration

ITEMS = "/api/v1/items"


def _upgrade(connection: Connection) -> None:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh schema at the latest migration, dropped afterwards."""
    if "DATABASE_URL" not in settings.model_fields_set or not settings.DATABASE_URL.startswith("postgresql"):
        pytest.fail("integration tests need DATABASE_URL (environment or .env) set to this app's PostgreSQL database")
    schema = f"test_{secrets.token_hex(6)}"
    admin = create_async_engine(settings.DATABASE_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = engine_options(settings.DATABASE_URL)
    options["connect_args"]["server_settings"]["search_path"] = schema
    engine = create_async_engine(settings.DATABASE_URL, **options)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> BoundedSessions:
    return create_sessions(engine)


@pytest.fixture
async def api(
    sessions: BoundedSessions, ulm_client: ULMClient, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the test schema (no SQLite), ULM faked."""
    app.dependency_overrides[get_sessions] = lambda: sessions
    app.dependency_overrides[get_read_sessions] = lambda: sessions
    monkeypatch.setattr(ulm._Shared, "client", ulm_client)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as http:
        yield http
    app.dependency_overrides.clear()


async def test_the_schema_is_at_head_on_postgresql(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert conn.dialect.name == "postgresql"
        assert conn.dialect.driver == "asyncpg"
        tables = await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    assert sorted(tables) == ["alembic_version", "items"]
    assert version


async def test_create_and_read_back_item(sessions: BoundedSessions) -> None:
    async with sessions() as session:
        item = Item(name="integration widget", owner_user_id="00000000-0000-0000-0000-000000000001")
        session.add(item)
        await session.commit()

    async with sessions() as session:
        stored = await session.get(Item, item.id)
    assert stored is not None
    assert stored.name == "integration widget"
    assert stored.created_at.tzinfo is not None


async def test_items_api_on_postgresql(api: httpx.AsyncClient) -> None:
    created = await api.post(ITEMS, json={"name": "api widget"})
    assert created.status_code == 201, created.text

    fetched = await api.get(f"{ITEMS}/{created.json()['id']}")
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["owner"] == {"id": "u-1", "email": "ada@example.com", "name": "Ada Lovelace"}
    assert (await api.get(ITEMS)).json()["items"] == [created.json()]
    assert (await api.get("/health/ready")).json()["database"] == "ok"


async def test_the_identity_key_and_the_checks_hold_on_postgresql(sessions: BoundedSessions) -> None:
    async with sessions() as session:
        with pytest.raises(DBAPIError):  # GENERATED ALWAYS: no id of our choosing
            await session.execute(text("INSERT INTO items (id, name, owner_user_id) VALUES (1, 'x', 'u-1')"))
    async with sessions() as session:
        with pytest.raises(DBAPIError):
            await session.execute(text("INSERT INTO items (name, owner_user_id) VALUES ('', 'u-1')"))


async def test_every_connection_has_the_statement_and_lock_timeouts(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout', 'lock_timeout')")
        )
        found = {str(row[0]): str(row[1]) for row in rows}
    assert found == {
        "statement_timeout": str(round(settings.DB_STATEMENT_TIMEOUT * 1000)),
        "lock_timeout": str(round(settings.DB_LOCK_TIMEOUT * 1000)),
    }


async def test_a_row_locked_past_lock_timeout_is_a_504(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    item = (await api.post(ITEMS, json={"name": "locked"})).json()
    async with engine.connect() as holder:
        await holder.execute(text("SELECT 1 FROM items WHERE id = :id FOR UPDATE"), {"id": item["id"]})

        response = await api.patch(f"{ITEMS}/{item['id']}", json={"name": "waited"})

        await holder.rollback()
    assert response.status_code == 504, response.text
    assert response.json()["code"] == "database_timeout"
    assert (await api.patch(f"{ITEMS}/{item['id']}", json={"name": "free"})).status_code == 200


async def test_items_are_listed_in_id_order_and_paged(api: httpx.AsyncClient, sessions: BoundedSessions) -> None:
    ids = [(await api.post(ITEMS, json={"name": n})).json()["id"] for n in "ABC"]
    # An update moves A's row behind C's on disk: without ORDER BY, PostgreSQL would list B, C, A.
    async with sessions() as session, session.begin():
        await session.execute(update(Item).where(Item.id == ids[0]).values(name="A2"))

    listed = (await api.get(ITEMS)).json()["items"]
    page = (await api.get(ITEMS, params={"limit": 1, "offset": 1})).json()["items"]

    assert [i["name"] for i in listed] == ["A2", "B", "C"]
    assert [i["id"] for i in page] == [ids[1]]

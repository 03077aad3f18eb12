"""Only database (and ULM) failures become 503/504; a bug elsewhere stays a 500 with its request id."""

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.core.database import BoundedSessions, create_sessions, get_read_sessions, get_sessions
from app.core.logging import JsonFormatter
from app.main import app

ITEMS = "/api/v1/items"


@pytest.fixture
def failing_route() -> Iterator[Callable[[BaseException], None]]:
    """Adds ``GET /test-only/fail``, raising what the test says, to the app for one test."""
    raised: list[BaseException] = []
    router = APIRouter()

    @router.get("/test-only/fail")
    async def fail() -> None:
        raise raised[0]

    before = len(app.router.routes)
    app.include_router(router)
    yield raised.append
    del app.router.routes[before:]
    app.openapi_schema = None


def _failing_sessions(error: BaseException) -> object:
    class Failing:
        async def __aenter__(self) -> AsyncSession:
            raise error

        async def __aexit__(self, *exc: object) -> None:
            return None

    return Failing


async def test_a_refused_connection_is_503(client: httpx.AsyncClient) -> None:
    # asyncpg raises ConnectionRefusedError, an OSError, as it is: the database layer's, so a 503.
    dead = create_async_engine("postgresql+asyncpg://u:p@127.0.0.1:1/none")
    app.dependency_overrides[get_read_sessions] = lambda: create_sessions(dead)
    try:
        response = await client.get(ITEMS)
    finally:
        await dead.dispose()

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"
    assert "127.0.0.1" not in response.text


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("too many connections for role"),
        sa_exc.DBAPIError("SELECT 1", None, ConnectionResetError("reset by 10.0.0.5"), connection_invalidated=True),
    ],
)
async def test_database_outages_are_503_naming_no_address(client: httpx.AsyncClient, error: Exception) -> None:
    app.dependency_overrides[get_read_sessions] = lambda: _failing_sessions(error)

    response = await client.get(ITEMS)

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "5"
    assert "10.0.0.5" not in response.text


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.LockNotAvailableError("canceling statement due to lock timeout"),
        sa_exc.TimeoutError("QueuePool limit of size 20 overflow 10 reached"),
    ],
)
async def test_database_timeouts_are_504(client: httpx.AsyncClient, error: Exception) -> None:
    app.dependency_overrides[get_sessions] = lambda: _failing_sessions(error)

    response = await client.post(ITEMS, json={"name": "W"})

    assert response.status_code == 504, response.text
    assert response.json()["code"] == "database_timeout"
    assert response.headers["Retry-After"] == "5"
    assert "QueuePool" not in response.text


async def test_a_session_past_its_deadline_is_504(client: httpx.AsyncClient) -> None:
    class Slow:
        async def __aenter__(self) -> AsyncSession:
            await asyncio.sleep(5)
            raise AssertionError("not reached")

        async def __aexit__(self, *exc: object) -> None:
            return None

    app.dependency_overrides[get_read_sessions] = lambda: BoundedSessions(Slow, timeout=0.05)  # type: ignore[arg-type]
    started = time.monotonic()

    response = await client.get(ITEMS)

    assert response.status_code == 504, response.text
    assert response.json()["code"] == "database_timeout"
    assert time.monotonic() - started < 2


async def test_a_database_that_cannot_be_opened_is_503(client: httpx.AsyncClient) -> None:
    broken = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/nope.db")
    app.dependency_overrides[get_sessions] = lambda: create_sessions(broken)
    app.dependency_overrides[get_read_sessions] = lambda: create_sessions(broken)
    try:
        responses = [
            await client.get(ITEMS),
            await client.get(f"{ITEMS}/1"),
            await client.post(ITEMS, json={"name": "W"}),
        ]
    finally:
        await broken.dispose()

    for response in responses:
        assert response.status_code == 503, response.text
        assert "nonexistent" not in response.text


def _open_nonexistent() -> object:
    return Path("/nonexistent").read_text()


def _time_out() -> object:
    raise TimeoutError


@pytest.mark.parametrize("make_error", [_open_nonexistent, _time_out])
async def test_an_os_or_timeout_error_outside_the_database_is_a_500_logged_with_the_request_id(
    client: httpx.AsyncClient,
    failing_route: Callable[[BaseException], None],
    caplog: pytest.LogCaptureFixture,
    make_error: Callable[[], object],
) -> None:
    try:
        make_error()
    except (OSError, TimeoutError) as exc:
        failing_route(exc)

    with caplog.at_level(logging.ERROR):
        response = await client.get("/test-only/fail", headers={"X-Request-ID": "req-500"})

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert response.headers["X-Request-ID"] == "req-500"
    logged = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(line["request_id"] == "req-500" and "exception" in line for line in logged)

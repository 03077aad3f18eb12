"""This app's own database ({{app.db}}), through SQLAlchemy's asyncio engine.

ADR-002: the app talks only to its own database. It never connects to
ulm_db or to another app's database; user data comes from the ULM API
(app.clients.ulm).

Routes get a session factory, not a session: each opens a session for exactly
the database work it does (``async with sessions() as db``) and closes it,
handing the connection back to the pool, before it calls anything slow such as
ULM. A request waiting on ULM holds no connection.

Two factories: ``Sessions`` (the primary, ``DATABASE_URL``) for writes and for
reads that must see a write just made, and ``ReadSessions`` (``DATABASE_READ_URL``
when set, a replica that may lag a little; the primary otherwise) for read-only
routes.

Every wait is bounded (see ``app.core.extra_settings``): connect, pool, and each
statement, on the server (``statement_timeout``, ``lock_timeout``) and on the
client (``command_timeout``); and a session's whole use (``DB_SESSION_TIMEOUT``).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from uuid import uuid4

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.config import Settings, settings


def _milliseconds(seconds: float) -> str:
    return str(max(1, round(seconds * 1000)))


def engine_options(url: str, config: Settings | None = None) -> dict[str, Any]:
    """The engine's settings for ``url`` (from ``config``, default: the app's settings): the pool
    and timeout ones apply to PostgreSQL only. SQLite (used by the unit tests) does not take them.
    """
    config = config or settings
    options: dict[str, Any] = {"echo": config.DEBUG}
    if url.startswith("sqlite"):
        return options
    connect_args: dict[str, Any] = {
        "timeout": config.DB_CONNECT_TIMEOUT,
        "command_timeout": config.DB_STATEMENT_TIMEOUT + config.DB_CLIENT_MARGIN,
        "server_settings": {
            "statement_timeout": _milliseconds(config.DB_STATEMENT_TIMEOUT),
            "lock_timeout": _milliseconds(config.DB_LOCK_TIMEOUT),
            # A transaction left open (a bug, a killed task) does not hold its locks for ever.
            "idle_in_transaction_session_timeout": _milliseconds(4 * config.DB_STATEMENT_TIMEOUT),
        },
    }
    if config.DB_PGBOUNCER:
        # PgBouncer refuses these as startup parameters ("unsupported startup parameter"), and a
        # session setting would not follow a transaction to its server connection anyway: behind
        # it the client-side deadline (command_timeout) bounds each statement, and the server-side
        # ones belong on the login (ALTER ROLE ... SET statement_timeout = ...).
        del connect_args["server_settings"]
        # Transaction pooling: a prepared statement lives on one server
        # connection, and the next transaction may get another. No statement
        # caches (asyncpg's, SQLAlchemy's), and unique names for the statements
        # SQLAlchemy still prepares, so two clients never collide on one.
        # The pool stays: its connections go to PgBouncer, which holds the
        # server connections only while a transaction runs.
        connect_args.update(
            statement_cache_size=0,
            prepared_statement_cache_size=0,
            prepared_statement_name_func=_statement_name,
        )
    options.update(
        pool_size=config.DB_POOL_SIZE,
        max_overflow=config.DB_MAX_OVERFLOW,
        pool_timeout=config.DB_POOL_TIMEOUT,
        # No ping before each use: it costs three round trips per request. A connection that died
        # while idle (a database restart) fails its first statement instead; SQLAlchemy then
        # drops every connection the pool held, so one request per process answers 503 and the
        # next ones reconnect.
        pool_pre_ping=False,
        connect_args=connect_args,
    )
    return options


def _statement_name() -> str:
    return f"__asyncpg_{uuid4()}__"


def create_engine(url: str | None = None) -> AsyncEngine:
    """An async engine for ``url`` (default: settings.DATABASE_URL)."""
    url = url or settings.DATABASE_URL
    return create_async_engine(url, **engine_options(url))


class DatabaseTimeoutError(TimeoutError):
    """A session's work (connection, statements) did not end within ``DB_SESSION_TIMEOUT``."""


class BoundedSessions:
    """Sessions whose whole use ends within ``timeout`` seconds: ``async with sessions() as db``.

    The bound covers waiting for a pooled connection, connecting and every statement of the
    block, so requests queued behind a frozen database do not add their waits up: each answers
    504 within ``DB_SESSION_TIMEOUT``. asyncio cancels the work in progress; SQLAlchemy then
    drops the connection rather than return it to the pool in an unknown state.
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession], timeout: float) -> None:
        self.factory = factory
        self.timeout = timeout

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        try:
            async with asyncio.timeout(self.timeout), self.factory() as session:
                yield session
        except TimeoutError as exc:
            raise DatabaseTimeoutError(f"database work took more than {self.timeout}s") from exc


def create_sessions(bind: AsyncEngine, timeout: float | None = None) -> BoundedSessions:
    factory = async_sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)
    return BoundedSessions(factory, settings.DB_SESSION_TIMEOUT if timeout is None else timeout)


# Created at import, connect on first use. The replica's pool has the primary's size; its
# connections count on the replica's server, not against the primary's.
engine = create_engine()
read_engine = create_engine(settings.DATABASE_READ_URL) if settings.DATABASE_READ_URL else engine

SessionLocal = create_sessions(engine)
ReadSessionLocal = create_sessions(read_engine) if read_engine is not engine else SessionLocal


async def get_sessions() -> BoundedSessions:
    """FastAPI dependency: sessions on the primary (tests override it)."""
    return SessionLocal


async def get_read_sessions() -> BoundedSessions:
    """FastAPI dependency: sessions for read-only routes (the replica when one is set)."""
    return ReadSessionLocal


async def dispose_engines() -> None:
    await engine.dispose()
    if read_engine is not engine:
        await read_engine.dispose()


Sessions = Annotated[BoundedSessions, Depends(get_sessions)]
ReadSessions = Annotated[BoundedSessions, Depends(get_read_sessions)]

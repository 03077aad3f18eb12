"""This app's own database ({{app.db}}), through SQLAlchemy's asyncio engine.

ADR-002: the app talks only to its own database. It never connects to
ulm_db or to another app's database; user data comes from the ULM API
(app.clients.ulm).

Routes get the session factory (``Sessions``), not a session: each opens a
session for exactly the database work it does (``async with sessions() as db``)
and closes it, handing the connection back to the pool, before it calls
anything slow such as ULM. A request waiting on ULM holds no connection.
"""

from typing import Annotated, Any
from uuid import uuid4

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.config import settings


def engine_options(url: str) -> dict[str, Any]:
    """The engine's settings for ``url``: the pool ones apply to PostgreSQL only.

    SQLite (used by the unit tests) does not take them.
    """
    options: dict[str, Any] = {"echo": settings.DEBUG}
    if not url.startswith("sqlite"):
        options.update(
            pool_size=settings.DB_POOL_SIZE,
            max_overflow=settings.DB_MAX_OVERFLOW,
            pool_timeout=settings.DB_POOL_TIMEOUT,
            # A connection that died while idle (database restart) is replaced, not used.
            pool_pre_ping=True,
        )
        if settings.DB_PGBOUNCER:
            # Transaction pooling: a prepared statement lives on one server
            # connection, and the next transaction may get another. No statement
            # caches (asyncpg's, SQLAlchemy's), and unique names for the statements
            # SQLAlchemy still prepares, so two clients never collide on one.
            # The pool stays: its connections go to PgBouncer, which holds the
            # server connections only while a transaction runs.
            options["connect_args"] = {
                "statement_cache_size": 0,
                "prepared_statement_cache_size": 0,
                "prepared_statement_name_func": _statement_name,
            }
    return options


def _statement_name() -> str:
    return f"__asyncpg_{uuid4()}__"


def create_engine(url: str | None = None) -> AsyncEngine:
    """An async engine for ``url`` (default: settings.DATABASE_URL)."""
    url = url or settings.DATABASE_URL
    return create_async_engine(url, **engine_options(url))


def create_sessions(bind: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)


# Created at import, connects on first use.
engine = create_engine()

SessionLocal = create_sessions(engine)


def get_sessions() -> async_sessionmaker[AsyncSession]:
    """FastAPI dependency: the session factory (tests override it)."""
    return SessionLocal


Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]

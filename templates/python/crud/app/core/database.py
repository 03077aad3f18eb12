"""This app's own database ({{app.db}}), through SQLAlchemy's asyncio engine.

ADR-002: the app talks only to its own database. It never connects to
ulm_db or to another app's database; user data comes from the ULM API
(app.clients.ulm).
"""

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.config import settings


def create_engine(url: str | None = None) -> AsyncEngine:
    """Build an async engine for ``url`` (default: settings.DATABASE_URL).

    The pool settings (DB_POOL_SIZE, DB_MAX_OVERFLOW, DB_POOL_TIMEOUT) apply to
    PostgreSQL; SQLite (used by the unit tests) does not take them.
    """
    url = url or settings.DATABASE_URL
    options: dict = {"echo": settings.DEBUG}
    if not url.startswith("sqlite"):
        options.update(
            pool_size=settings.DB_POOL_SIZE,
            max_overflow=settings.DB_MAX_OVERFLOW,
            pool_timeout=settings.DB_POOL_TIMEOUT,
            pool_pre_ping=True,
        )
    return create_async_engine(url, **options)


# Created at import, connects on first use.
engine = create_engine()

AsyncSessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def get_db() -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request."""
    async with AsyncSessionLocal() as session:
        yield session

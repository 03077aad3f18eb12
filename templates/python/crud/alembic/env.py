"""Alembic environment for {{app.title}} — async, against this app's own database.

The URL comes from app.core.config (DATABASE_URL from the environment or
backend/.env), already normalised to postgresql+asyncpg://. ADR-002: these
migrations only ever touch {{app.db}}.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import settings
from app.models import Base  # imports every model, so autogenerate sees them

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = Base.metadata

# Every migration runs with these bounds (squawk's require-timeout-settings): a migration that
# waits for a lock held by a busy table gives up after LOCK_TIMEOUT instead of queueing every
# query behind it; STATEMENT_TIMEOUT bounds a statement that rewrites a large table.
LOCK_TIMEOUT = "5s"
STATEMENT_TIMEOUT = "5min"


def set_timeouts() -> None:
    context.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    context.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (alembic upgrade head --sql)."""
    context.configure(
        url=settings.DATABASE_URL,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        compare_type=True,
    )

    with context.begin_transaction():
        set_timeouts()
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)

    with context.begin_transaction():
        set_timeouts()
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = create_async_engine(settings.DATABASE_URL, poolclass=pool.NullPool)

    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)

    await connectable.dispose()


def run_migrations_online() -> None:
    # A caller may hand over a ready (sync) connection in config.attributes["connection"], as
    # tests/integration does to migrate a schema of its own.
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

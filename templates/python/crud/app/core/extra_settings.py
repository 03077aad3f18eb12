"""The settings a crud app adds: its own database, and the bounds on every wait for it.

Every database operation ends within a bound, so a frozen or overloaded database costs a
request seconds, not minutes:

* ``DB_CONNECT_TIMEOUT`` - opening a connection (asyncpg's ``timeout``);
* ``DB_POOL_TIMEOUT``    - waiting for a pooled connection when all are in use;
* ``DB_STATEMENT_TIMEOUT`` / ``DB_LOCK_TIMEOUT`` - set on every connection as PostgreSQL's
  ``statement_timeout`` / ``lock_timeout``: the server cancels a statement that runs, or
  waits for a lock, longer;
* the same statement bound plus ``DB_CLIENT_MARGIN`` on the client (asyncpg's
  ``command_timeout``): a server that does not answer at all (frozen, a dead network) is given
  up on too;
* ``DB_SESSION_TIMEOUT`` - one ``async with sessions() as db`` block in all (pool wait, connect,
  statements): requests queued behind a frozen database each end within it, not one after the
  other.
"""

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

# Drivers that SQLAlchemy would pick (or that people write) for PostgreSQL.
# The app runs on asyncio, so every PostgreSQL URL is turned into asyncpg.
_POSTGRES_DRIVERS = {
    "postgres",
    "postgresql",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+psycopg2cffi",
    "postgresql+pg8000",
    "postgresql+asyncpg",
}


def to_async_url(url: str) -> str:
    """Return ``url`` with an asyncio driver SQLAlchemy can use.

    ``postgres://``, ``postgresql://`` and ``postgresql+<sync driver>://``
    become ``postgresql+asyncpg://`` (libpq's ``sslmode`` query parameter is
    renamed to asyncpg's ``ssl``); a bare ``sqlite://`` becomes
    ``sqlite+aiosqlite://``; anything else is returned unchanged.
    """
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES_DRIVERS:
        query = dict(parsed.query)
        if "sslmode" in query:
            query["ssl"] = query.pop("sslmode")
        parsed = parsed.set(drivername="postgresql+asyncpg", query=query)
        return parsed.render_as_string(hide_password=False)
    if parsed.drivername == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    return url


class ExtraSettings(BaseSettings):
    # This app's own database (ADR-002: {{app.db}}, login {{app.user}}).
    # Written as in the ADR (postgresql://user:password@host:5432/db); it is
    # normalised to postgresql+asyncpg:// when the settings are loaded.
    DATABASE_URL: str = "postgresql://{{app.user}}@localhost:5432/{{app.db}}"
    # A read replica (e.g. CloudNativePG's <cluster>-ro service), for the read-only routes.
    # Unset: they read from DATABASE_URL. See "Read replica" in README.md.
    DATABASE_READ_URL: str | None = None
    DB_POOL_SIZE: int = {{pool.size}}
    DB_MAX_OVERFLOW: int = {{pool.maxOverflow}}
    DB_POOL_TIMEOUT: float = Field(default={{pool.timeout}}, gt=0)
    DB_CONNECT_TIMEOUT: float = Field(default=5.0, gt=0)
    DB_STATEMENT_TIMEOUT: float = Field(default=5.0, gt=0)
    DB_LOCK_TIMEOUT: float = Field(default=2.0, gt=0)
    DB_CLIENT_MARGIN: float = Field(default=1.0, gt=0)
    DB_SESSION_TIMEOUT: float = Field(default=8.0, gt=0)
    # Set when DATABASE_URL goes through PgBouncer in transaction pooling mode
    # (create-ovu-app --pgbouncer): each transaction may run on another server
    # connection, so asyncpg must not keep prepared statements between them; and
    # PgBouncer takes no statement_timeout/lock_timeout at connect: set those on the
    # login (ALTER ROLE ... SET) if you want them on the server too.
    DB_PGBOUNCER: bool = False

    @field_validator("DATABASE_URL", "DATABASE_READ_URL")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        return to_async_url(value) if value else value

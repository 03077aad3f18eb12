"""Application settings, read from the environment and from backend/.env.

Environment variables win over .env; .env wins over the defaults below.
"""

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

APP_SLUG = "{{app.slug}}"
APP_TITLE = "{{app.title}}"

# backend/.env, wherever the process is started from.
ENV_FILE = Path(__file__).resolve().parents[2] / ".env"

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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        case_sensitive=True,
        extra="ignore",
    )

    DEBUG: bool = False

    # This app's own database (ADR-002: {{app.db}}, login {{app.user}}).
    # Written as in the ADR (postgresql://user:password@host:5432/db); it is
    # normalised to postgresql+asyncpg:// when the settings are loaded.
    DATABASE_URL: str = "postgresql://{{app.user}}@localhost:5432/{{app.db}}"
    DB_POOL_SIZE: int = {{pool.size}}
    DB_MAX_OVERFLOW: int = {{pool.maxOverflow}}
    DB_POOL_TIMEOUT: int = {{pool.timeout}}
    # Set when DATABASE_URL goes through PgBouncer in transaction pooling mode
    # (create-ovu-app --pgbouncer): each transaction may run on another server
    # connection, so asyncpg must not keep prepared statements between them.
    DB_PGBOUNCER: bool = False

    # User data comes only from the ULM service's HTTP API, never from ulm_db.
    ULM_BASE_URL: str = "{{ulmUrl}}"
    # Seconds one ULM call may take in all, retries included.
    ULM_TIMEOUT: float = Field(default=5.0, gt=0)
    # Sent as "Authorization: Bearer <token>" on user lookups when set.
    ULM_SERVICE_TOKEN: SecretStr | None = None
    # Where ULM says whose a caller's token is (200 with the user, 401 otherwise).
    ULM_AUTH_PATH: str = "/api/v1/auth/me"
    # What /health/ready asks ULM (any answer below 500 means ULM is up).
    ULM_HEALTH_PATH: str = "/health"
    # Seconds a token ULM accepted is trusted without asking again.
    AUTH_CACHE_TTL: float = Field(default=30.0, ge=0)
    # After this many failed ULM calls in a row, fail at once for ULM_BREAKER_COOLDOWN seconds.
    ULM_BREAKER_THRESHOLD: int = Field(default=5, ge=1)
    ULM_BREAKER_COOLDOWN: float = Field(default=10.0, gt=0)

    @field_validator("DATABASE_URL")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return to_async_url(value)


settings = Settings()

"""DATABASE_URL as the ADR writes it must work with the async engine."""

import pytest

from app.core.config import Settings
from app.core.extra_settings import to_async_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:pw@db:5432/app_db", "postgresql+asyncpg://u:pw@db:5432/app_db"),
        ("postgres://u:pw@db/app_db", "postgresql+asyncpg://u:pw@db/app_db"),
        ("postgresql+psycopg2://u:pw@db/app_db", "postgresql+asyncpg://u:pw@db/app_db"),
        ("postgresql+psycopg://u:pw@db/app_db", "postgresql+asyncpg://u:pw@db/app_db"),
        ("postgresql+asyncpg://u:pw@db/app_db", "postgresql+asyncpg://u:pw@db/app_db"),
        ("postgresql://u:pw@db/app_db?sslmode=require", "postgresql+asyncpg://u:pw@db/app_db?ssl=require"),
        ("postgresql://u:p%40ss%2Fw@db/app_db", "postgresql+asyncpg://u:p%40ss%2Fw@db/app_db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite:///./local.db", "sqlite+aiosqlite:///./local.db"),
    ],
)
def test_to_async_url(given: str, expected: str) -> None:
    assert to_async_url(given) == expected


def test_settings_normalise_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://{{app.user}}:pw@localhost:5432/{{app.db}}")

    assert Settings().DATABASE_URL == "postgresql+asyncpg://{{app.user}}:pw@localhost:5432/{{app.db}}"

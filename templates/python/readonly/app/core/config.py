"""Application settings, read from the environment and from backend/.env.

Environment variables win over .env; .env wins over the defaults below.
"""

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_SLUG = "{{app.slug}}"
APP_TITLE = "{{app.title}}"

# backend/.env, wherever the process is started from.
ENV_FILE = Path(__file__).resolve().parents[2] / ".env"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        case_sensitive=True,
        extra="ignore",
    )

    DEBUG: bool = False

    # User data comes only from the ULM service's HTTP API, never from ulm_db.
    ULM_BASE_URL: str = "{{ulmUrl}}"
    ULM_TIMEOUT: float = 5.0
    ULM_SERVICE_TOKEN: SecretStr | None = None


settings = Settings()

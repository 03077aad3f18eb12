"""Application settings, read from the environment and from backend/.env.

Environment variables win over .env; .env wins over the defaults below. What only this kind of
app needs (a crud app's database) is in ``app.core.extra_settings``.
"""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from app.core.extra_settings import ExtraSettings

APP_SLUG = "{{app.slug}}"
APP_TITLE = "{{app.title}}"

# backend/.env, wherever the process is started from.
ENV_FILE = Path(__file__).resolve().parents[2] / ".env"


class Settings(ExtraSettings):
    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        case_sensitive=True,
        extra="ignore",
    )

    DEBUG: bool = False

    # User data comes only from the ULM service's HTTP API, never from ulm_db.
    ULM_BASE_URL: str = "{{ulmUrl}}"
    # Seconds one ULM call may take in all, retries included.
    ULM_TIMEOUT: float = Field(default=5.0, gt=0)
    # Sent as "Authorization: Bearer <token>" on user lookups when set.
    ULM_SERVICE_TOKEN: SecretStr | None = None
    # Where ULM says whose a caller's token is (200 with the user, 401 otherwise).
    ULM_AUTH_PATH: str = "/api/v1/auth/me"
    # What /health/ready of a readonly app asks ULM (any answer below 500 means ULM is up).
    ULM_HEALTH_PATH: str = "/health"
    # Seconds a token ULM accepted is trusted without asking again.
    AUTH_CACHE_TTL: float = Field(default=30.0, ge=0)
    # Seconds a user ULM returned is reused without asking again (0: always ask).
    USER_CACHE_TTL: float = Field(default=30.0, ge=0)
    # After this many failed ULM calls in a row, fail at once for ULM_BREAKER_COOLDOWN seconds.
    ULM_BREAKER_THRESHOLD: int = Field(default=5, ge=1)
    ULM_BREAKER_COOLDOWN: float = Field(default=10.0, gt=0)


settings = Settings()

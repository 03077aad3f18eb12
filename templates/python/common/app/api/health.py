"""GET /health — is this app up{{#if crud}}, and can it reach its database{{/if}}?"""

{{#if crud}}
import logging
from typing import Any

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import APP_SLUG
from app.core.database import get_db

logger = logging.getLogger(__name__)
{{else}}
from typing import Any

from fastapi import APIRouter

from app.core.config import APP_SLUG
{{/if}}

router = APIRouter(tags=["health"])


{{#if crud}}
@router.get("/health")
async def health(response: Response, db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
    """200 when the database answers, 503 (database "unavailable") when it does not.

    ULM is not checked here: this app stays up while ULM is down, and the
    routes that need ULM answer 503 themselves.
    """
    try:
        await db.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "unavailable"
        logger.warning("Health check: database unavailable: %s", exc)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "error", "app": APP_SLUG, "database": "unavailable"}
    return {"status": "ok", "app": APP_SLUG, "database": "ok"}
{{else}}
@router.get("/health")
async def health() -> dict[str, Any]:
    """200 while the app is up. This app has no database of its own (read-only
    against ULM); ULM is not checked here, the routes that need it answer 503."""
    return {"status": "ok", "app": APP_SLUG}
{{/if}}

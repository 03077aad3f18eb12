"""GET /health — is this app up, and can it reach its database?"""

import logging
from typing import Any

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import APP_SLUG
from app.core.database import get_db

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


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

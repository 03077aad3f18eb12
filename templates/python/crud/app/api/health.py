"""Health probes, open to anyone (no token).

* ``GET /health/live``  - the process answers; no dependency is asked. A
  liveness probe restarts the app only when it is really stuck.
* ``GET /health/ready`` - the database answers ``SELECT 1`` within
  ``READY_TIMEOUT`` seconds; 503 otherwise (take the app out of rotation).
  ULM is not checked: this app serves its own data while ULM is down.
"""

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy import text

from app.api.database_errors import RETRY_AFTER_SECONDS
from app.core.config import APP_SLUG
from app.core.database import Sessions

logger = logging.getLogger(__name__)

READY_TIMEOUT = 1.0

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, Any]:
    """200 while the process can answer."""
    return {"status": "ok", "app": APP_SLUG}


@router.get("/ready")
async def ready(response: Response, sessions: Sessions) -> dict[str, Any]:
    """200 when the database answers quickly, 503 (database "unavailable") when it does not."""
    try:
        async with asyncio.timeout(READY_TIMEOUT), sessions() as db:
            await db.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means "not ready"
        logger.warning("Readiness: database unavailable: %s: %s", type(exc).__name__, exc)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return {"status": "error", "app": APP_SLUG, "database": "unavailable"}
    return {"status": "ok", "app": APP_SLUG, "database": "ok"}

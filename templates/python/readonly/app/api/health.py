"""Health probes, open to anyone (no token).

* ``GET /health/live``  - the process answers; no dependency is asked.
* ``GET /health/ready`` - ULM, this app's only dependency, answers within
  ``READY_TIMEOUT`` seconds (and its circuit breaker is closed); 503 otherwise.
"""

import logging
from typing import Any

from fastapi import APIRouter, Response, status

from app.clients.ulm import ULM, ULMError
from app.core.config import APP_SLUG

logger = logging.getLogger(__name__)

READY_TIMEOUT = 1.0
RETRY_AFTER_SECONDS = 5

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, Any]:
    """200 while the process can answer."""
    return {"status": "ok", "app": APP_SLUG}


@router.get("/ready")
async def ready(response: Response, ulm: ULM) -> dict[str, Any]:
    """200 when ULM answers quickly, 503 (ulm "unavailable") when it does not."""
    try:
        await ulm.ping(READY_TIMEOUT)
    except ULMError as exc:
        logger.warning("Readiness: ULM unavailable: %s", exc)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return {"status": "error", "app": APP_SLUG, "ulm": "unavailable"}
    return {"status": "ok", "app": APP_SLUG, "ulm": "ok"}

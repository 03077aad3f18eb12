"""Health probes, open to anyone (no token).

* ``GET /health/live``  - the process answers; no dependency is asked. A
  liveness probe restarts the app only when it is really stuck.
* ``GET /health/ready`` - the app's own dependency (``app.core.readiness``: a crud
  app's database, a readonly app's ULM) answers within ``READY_TIMEOUT``
  seconds; 503 otherwise (take the app out of rotation).
"""

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Response, status

from app.core.config import APP_SLUG
from app.core.readiness import DEPENDENCY, Probe

logger = logging.getLogger(__name__)

READY_TIMEOUT = 1.0
RETRY_AFTER_SECONDS = 5

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, Any]:
    """200 while the process can answer."""
    return {"status": "ok", "app": APP_SLUG}


@router.get("/ready")
async def ready(response: Response, probe: Probe) -> dict[str, Any]:
    """200 when the dependency answers quickly, 503 ("unavailable") when it does not."""
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await probe(READY_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure to reach it means "not ready"
        logger.warning("Readiness: %s unavailable: %s: %s", DEPENDENCY, type(exc).__name__, exc)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return {"status": "error", "app": APP_SLUG, DEPENDENCY: "unavailable"}
    return {"status": "ok", "app": APP_SLUG, DEPENDENCY: "ok"}

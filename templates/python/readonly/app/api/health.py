"""GET /health — is this app up?"""

from typing import Any

from fastapi import APIRouter

from app.core.config import APP_SLUG

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, Any]:
    """200 while the app is up. This app has no database of its own (read-only
    against ULM); ULM is not checked here, the routes that need it answer 503."""
    return {"status": "ok", "app": APP_SLUG}

"""{{app.title}} — FastAPI application.

Run locally:   uvicorn app.main:app --reload --port {{port}}
In a container it listens on port {{containerPort}}.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api import health, users
from app.api.errors import register_error_handlers
from app.clients.ulm import close_ulm_client
from app.core.config import APP_TITLE, settings

logging.basicConfig(level=logging.DEBUG if settings.DEBUG else logging.INFO)
# httpx logs every request at INFO; keep that for DEBUG.
logging.getLogger("httpx").setLevel(logging.DEBUG if settings.DEBUG else logging.WARNING)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The ULM client and the database pool are created on first use.
    yield
    # Shutdown: close the shared ULM HTTP client.
    await close_ulm_client()


app = FastAPI(title=APP_TITLE, version=__version__, debug=settings.DEBUG, lifespan=lifespan)

register_error_handlers(app)

app.include_router(health.router)
app.include_router(users.router)

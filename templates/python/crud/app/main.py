"""{{app.title}} — FastAPI application.

Run locally:   uvicorn app.main:app --reload --port {{port}}
In a container it listens on port {{containerPort}}.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api import health, items, users
from app.api.database_errors import register_database_error_handlers
from app.api.errors import register_error_handlers
from app.clients.ulm import close_ulm_client
from app.core.config import APP_TITLE, settings
from app.core.database import engine

logging.basicConfig(level=logging.DEBUG if settings.DEBUG else logging.INFO)
# httpx logs every request at INFO; keep that for DEBUG.
logging.getLogger("httpx").setLevel(logging.DEBUG if settings.DEBUG else logging.WARNING)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The ULM client and the database pool are created on first use.
    yield
    # Shutdown: close the shared ULM HTTP client and the database pool.
    await close_ulm_client()
    await engine.dispose()


app = FastAPI(title=APP_TITLE, version=__version__, debug=settings.DEBUG, lifespan=lifespan)

register_error_handlers(app)
register_database_error_handlers(app)

app.include_router(health.router)
app.include_router(users.router)
app.include_router(items.router)

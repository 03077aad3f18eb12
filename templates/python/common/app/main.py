"""{{app.title}} — FastAPI application.

Run locally:   uvicorn app.main:app --reload --port {{port}}
In a container it listens on port {{containerPort}}.

Routes are under /api/v1 (ULM's convention), health probes under /health, the OpenAPI
description at /openapi.json and its browsable form at /docs. What this kind of app adds (its
routes, its error answers, what it closes on shutdown) is in ``app.resources``.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__, resources
from app.api import health, users
from app.api.errors import register_error_handlers
from app.clients.ulm import close_ulm_client
from app.core.config import APP_TITLE, settings
from app.core.logging import configure_logging
from app.core.request_id import RequestIdMiddleware

API_PREFIX = "/api/v1"

configure_logging(settings.DEBUG)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The ULM client and the database pools are created on first use.
    yield
    # Shutdown: close the shared ULM HTTP client, then what this kind of app opened.
    await close_ulm_client()
    await resources.close()


app = FastAPI(title=APP_TITLE, version=__version__, debug=settings.DEBUG, lifespan=lifespan)
app.add_middleware(RequestIdMiddleware)

register_error_handlers(app)
resources.register(app)

# Routes are matched in the order they are included: the resource routes, which carry the app's
# traffic, come first, so a request to them is not first tried against every other route.
for router in resources.ROUTERS:
    app.include_router(router, prefix=API_PREFIX)
app.include_router(users.router, prefix=API_PREFIX)
app.include_router(health.router)

"""What a crud app adds to the common app (``app.main``).

Its items (``/api/v1/items``), the answers for its database's outages (503/504 rather than
500), and its connection pools, closed on shutdown.
"""

from fastapi import APIRouter, FastAPI

from app.api import items
from app.api.database_errors import register_database_error_handlers
from app.core.database import dispose_engines

ROUTERS: list[APIRouter] = [items.router]


def register(app: FastAPI) -> None:
    register_database_error_handlers(app)


async def close() -> None:
    await dispose_engines()

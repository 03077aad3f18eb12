"""A readonly app serves what ULM knows and stores nothing: beyond the common app
(``app.main``: ``/api/v1/users``, health, errors) it has no routes, error answers
or pools of its own. A crud app's version of this module adds its items and database.
"""

from fastapi import APIRouter, FastAPI

ROUTERS: list[APIRouter] = []


def register(app: FastAPI) -> None:
    """Nothing to add: the common error handlers cover ULM."""


async def close() -> None:
    """Nothing of its own to close."""

"""What /health/ready asks in a crud app: its primary database, ``SELECT 1``.

ULM is not asked: this app serves its own data while ULM is down. A read replica is not
asked either: a lagging or lost replica fails the read routes (503), not the whole app.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from sqlalchemy import text

from app.core.database import Sessions

DEPENDENCY = "database"


async def get_probe(sessions: Sessions) -> Callable[[float], Awaitable[None]]:
    async def probe(within: float) -> None:  # health.py's deadline bounds it, not ``within``
        async with sessions() as db:
            await db.execute(text("SELECT 1"))

    return probe


Probe = Annotated[Callable[[float], Awaitable[None]], Depends(get_probe)]

"""What /health/ready asks in a readonly app: ULM, its only dependency.

ULM's health path (``ULM_HEALTH_PATH``) must answer below 500, and the ULM client's circuit
breaker must be closed.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from app.clients.ulm import ULM

DEPENDENCY = "ulm"


async def get_probe(ulm: ULM) -> Callable[[float], Awaitable[None]]:
    return ulm.ping


Probe = Annotated[Callable[[float], Awaitable[None]], Depends(get_probe)]

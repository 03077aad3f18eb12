"""Example routes that read users from ULM: through its API, never its database.

Callers must be authenticated (``app.api.auth``). ULM errors become HTTP
answers in ``app.api.errors``: unknown user -> 404, ULM down -> 503, ULM too
slow -> 504.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.auth import current_user
from app.clients.ulm import ULM, ULMUser

router = APIRouter(prefix="/users", tags=["users"], dependencies=[Depends(current_user)])


@router.get("/{user_id}")
async def read_user(user_id: str, ulm: ULM) -> ULMUser:
    """One user, read from ULM."""
    return await ulm.get_user(user_id)


@router.get("")
async def read_users(
    ids: Annotated[str, Query(description="Comma-separated ULM user ids, e.g. ids=a,b")],
    ulm: ULM,
) -> list[ULMUser]:
    """Several users in one ULM call; ids ULM does not know are left out."""
    return await ulm.get_users(i.strip() for i in ids.split(",") if i.strip())

"""Example routes that read users from ULM — through its API, never its database.

ULM errors become HTTP answers in ``app.api.errors``: unknown user -> 404,
ULM down/failing/timing out -> 503.
"""

from typing import Any

from fastapi import APIRouter, Depends, Query

from app.clients.ulm import ULMClient, get_ulm_client

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/{user_id}")
async def read_user(user_id: str, ulm: ULMClient = Depends(get_ulm_client)) -> dict[str, Any]:
    """One user, as ULM returns it."""
    return await ulm.get_user(user_id)


@router.get("")
async def read_users(
    ids: str = Query(..., description="Comma-separated ULM user ids, e.g. ids=a,b"),
    ulm: ULMClient = Depends(get_ulm_client),
) -> list[dict[str, Any]]:
    """Several users in one ULM call; ids ULM does not know are left out."""
    return await ulm.get_users(i.strip() for i in ids.split(",") if i.strip())

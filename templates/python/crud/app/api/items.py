"""Example CRUD resource, showing ADR-002's cross-service pattern.

Items live in this app's database; their owners live in ULM. We store only the
owner's ULM id and ask ULM's API for the user when we need it: never a query
against ulm_db.

Each route holds a database session only for its own queries and closes it
before it asks ULM, so a slow ULM never holds a pooled connection.

Callers must be authenticated (``app.api.auth``). ULM answers are mapped so a
ULM problem is never a 500: unknown owner -> 404 (GET) / 422 (POST), ULM down
-> 503, ULM too slow -> 504; the database down -> 503.
"""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import select

from app.api.auth import current_user
from app.api.errors import ApiError
from app.clients.ulm import ULM, ULMNotFoundError
from app.core.database import Sessions
from app.models import Item
from app.schemas.item import ItemCreate, ItemRead, ItemWithOwner

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(current_user)])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_item(body: ItemCreate, sessions: Sessions, ulm: ULM) -> ItemRead:
    """Create an item. The owner must exist in ULM (checked first, holding no connection)."""
    try:
        await ulm.get_user(body.owner_user_id)
    except ULMNotFoundError:
        raise ApiError(
            422,  # the request names an owner ULM does not know
            "owner_not_found",
            f"Owner user '{body.owner_user_id}' does not exist in ULM",
        ) from None
    async with sessions() as db:
        item = Item(name=body.name, owner_user_id=body.owner_user_id)
        db.add(item)
        await db.commit()
        await db.refresh(item)
    return ItemRead.model_validate(item)


@router.get("")
async def list_items(
    sessions: Sessions,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ItemRead]:
    """Items, oldest first."""
    async with sessions() as db:
        result = await db.execute(select(Item).order_by(Item.id).limit(limit).offset(offset))
        return [ItemRead.model_validate(item) for item in result.scalars()]


@router.get("/{item_id}")
async def get_item(item_id: int, sessions: Sessions, ulm: ULM) -> ItemWithOwner:
    """The item from our database, with its owner from ULM's API."""
    async with sessions() as db:
        item = await db.get(Item, item_id)
    # The session is closed: its connection is back in the pool before ULM is asked.
    if item is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "item_not_found", f"Item {item_id} not found")
    try:
        owner = await ulm.get_user(item.owner_user_id)
    except ULMNotFoundError:
        logger.warning("Owner %r of item %d is not in ULM", item.owner_user_id, item_id)
        raise ApiError(
            status.HTTP_404_NOT_FOUND,
            "owner_not_found",
            f"The owner of item {item_id} is not known to ULM",
        ) from None
    return ItemWithOwner(item=ItemRead.model_validate(item), owner=owner)

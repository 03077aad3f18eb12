"""Example CRUD resource, showing ADR-002's cross-service pattern.

Items live in this app's database; their owners live in ULM. We store only the
owner's ULM id and ask ULM's API for the user when we need it (cached for
``USER_CACHE_TTL`` seconds): never a query against ulm_db.

* The owner of an item is the caller who created it: the user ULM says the
  token belongs to (``CurrentUser``), never a field of the body.
* Every authenticated caller may list and read items; only the owner may
  change or delete one. Another caller gets 403 ``not_owner``: the item is
  readable by them anyway, so a 404 would hide nothing and only mislead.
* Reads (list, read) use ``ReadSessions``: a replica when ``DATABASE_READ_URL``
  is set. A write, and what its answer shows, uses the primary (``Sessions``):
  the row a POST or PATCH returns is read back in the same transaction, never
  from a replica that may not have it yet.

Each route holds a database session only for its own queries and closes it
before it asks ULM, so a slow ULM never holds a pooled connection.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.auth import CurrentUser, current_user
from app.api.errors import ApiError
from app.clients.ulm import ULMNotFoundError, ULMUser, get_ulm_client
from app.core.database import ReadSessions, Sessions
from app.models import Item
from app.schemas.item import ItemCreate, ItemPage, ItemRead, ItemReplace, ItemUpdate, ItemWithOwner

PAGE_MAX = 100

router = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(current_user)])


def _not_found(item_id: int) -> ApiError:
    return ApiError(status.HTTP_404_NOT_FOUND, "item_not_found", f"Item {item_id} not found")


async def _owned_for_change(db: AsyncSession, item_id: int, me: ULMUser) -> Item:
    """The item, locked for this transaction, when ``me`` owns it; 404 or 403 otherwise.

    FOR UPDATE: two changes of one item apply one after the other (``lock_timeout`` bounds the wait).
    """
    item = await db.get(Item, item_id, with_for_update=True)
    if item is None:
        raise _not_found(item_id)
    if item.owner_user_id != me.id:
        raise ApiError(status.HTTP_403_FORBIDDEN, "not_owner", f"Only the owner of item {item_id} may change it")
    return item


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_item(
    body: ItemCreate, me: CurrentUser, sessions: Sessions, request: Request, response: Response
) -> ItemRead:
    """Create an item owned by the caller."""
    async with sessions() as db:
        item = Item(name=body.name, description=body.description, owner_user_id=me.id)
        db.add(item)
        await db.commit()
        await db.refresh(item)  # on the primary: the id and timestamps it just wrote
    response.headers["Location"] = str(request.url_for("get_item", item_id=item.id))
    return ItemRead.model_validate(item)


@router.get("")
async def list_items(
    sessions: ReadSessions,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ItemPage:
    """Items, oldest first, one page at a time (at most 100 per page)."""
    async with sessions() as db:
        result = await db.execute(select(Item).order_by(Item.id).limit(limit + 1).offset(offset))
        rows = [ItemRead.model_validate(item) for item in result.scalars()]
    more = len(rows) > limit
    return ItemPage(items=rows[:limit], limit=limit, offset=offset, next_offset=offset + limit if more else None)


@router.get("/{item_id}")
async def get_item(item_id: int, sessions: ReadSessions) -> ItemWithOwner:
    """The item from our database, with its owner from ULM's API."""
    # The process-wide client, asked for directly: this is the hot route, and each dependency
    # FastAPI solves costs CPU on every request (tests put their client in its place).
    ulm = await get_ulm_client()
    async with sessions() as db:
        item = await db.get(Item, item_id)
    # The session is closed: its connection is back in the pool before ULM is asked.
    if item is None:
        raise _not_found(item_id)
    try:
        owner = await ulm.get_user(item.owner_user_id)
    except ULMNotFoundError:
        raise ApiError(
            status.HTTP_404_NOT_FOUND,
            "owner_not_found",
            f"The owner of item {item_id} is not known to ULM",
        ) from None
    return ItemWithOwner(item=ItemRead.model_validate(item), owner=owner)


@router.patch("/{item_id}")
async def update_item(item_id: int, body: ItemUpdate, me: CurrentUser, sessions: Sessions) -> ItemRead:
    """Change the fields sent; only the owner may."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name", "") is None:
        raise ApiError(422, "validation_error", "name cannot be null")
    async with sessions() as db:
        item = await _owned_for_change(db, item_id, me)
        for field, value in changes.items():
            setattr(item, field, value)
        await db.commit()
        await db.refresh(item)
    return ItemRead.model_validate(item)


@router.put("/{item_id}")
async def replace_item(item_id: int, body: ItemReplace, me: CurrentUser, sessions: Sessions) -> ItemRead:
    """Replace the item's fields (a field left out takes its default: ``description`` null); only the owner may."""
    async with sessions() as db:
        item = await _owned_for_change(db, item_id, me)
        item.name = body.name
        item.description = body.description
        await db.commit()
        await db.refresh(item)
    return ItemRead.model_validate(item)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_item(item_id: int, me: CurrentUser, sessions: Sessions) -> None:
    """Delete the item; only the owner may."""
    async with sessions() as db:
        item = await _owned_for_change(db, item_id, me)
        await db.delete(item)
        await db.commit()

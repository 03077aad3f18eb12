"""Example CRUD resource, showing ADR-002's cross-service pattern.

Items live in this app's database; their owners live in ULM. We store only the
owner's ULM id and ask ULM's API for the user when we need it — never a query
against ulm_db.

ULM answers are mapped so a ULM problem is never a 500:
unknown owner -> 404 (GET) / 422 (POST), ULM down, failing or timing out -> 503.
"""

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clients.ulm import ULMClient, ULMNotFoundError, get_ulm_client
from app.core.database import get_db
from app.models import Item
from app.schemas.item import ItemCreate, ItemRead, ItemWithOwner

router = APIRouter(prefix="/items", tags=["items"])


@router.post("", response_model=ItemRead, status_code=status.HTTP_201_CREATED)
async def create_item(
    body: ItemCreate,
    db: AsyncSession = Depends(get_db),
    ulm: ULMClient = Depends(get_ulm_client),
) -> Item:
    """Create an item. The owner must exist in ULM (checked through its API)."""
    try:
        await ulm.get_user(body.owner_user_id)
    except ULMNotFoundError:
        raise HTTPException(
            status_code=422,  # the request names an owner ULM does not know
            detail=f"Owner user '{body.owner_user_id}' does not exist in ULM",
        ) from None
    item = Item(name=body.name, owner_user_id=body.owner_user_id)
    db.add(item)
    await db.commit()
    await db.refresh(item)
    return item


@router.get("", response_model=list[ItemRead])
async def list_items(
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
    db: AsyncSession = Depends(get_db),
) -> list[Item]:
    result = await db.execute(select(Item).order_by(Item.id).limit(limit).offset(offset))
    return list(result.scalars())


@router.get("/{item_id}", response_model=ItemWithOwner)
async def get_item(
    item_id: int,
    db: AsyncSession = Depends(get_db),
    ulm: ULMClient = Depends(get_ulm_client),
) -> ItemWithOwner:
    """The item from our database, with its owner from ULM's API."""
    item = await db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"Item {item_id} not found")
    try:
        owner = await ulm.get_user(item.owner_user_id)
    except ULMNotFoundError:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND,
            detail=f"Owner of item {item_id}: user '{item.owner_user_id}' was not found in ULM",
        ) from None
    # ULMUnavailableError (-> 503) and other ULMErrors (-> 502) are handled in app.api.errors.
    return ItemWithOwner(item=ItemRead.model_validate(item), owner=owner)

"""Bodies for the /api/v1/items routes.

No body names an owner: the owner of an item is the caller who created it (their ULM token).
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.clients.ulm import ULMUser
from app.models.item import DESCRIPTION_MAX, NAME_MAX


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)


class ItemReplace(ItemCreate):
    """PUT: the whole item, as for POST; a field left out takes its default (``description``: null)."""


class ItemUpdate(BaseModel):
    """PATCH: only the fields sent change; ``description: null`` clears it."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    owner_user_id: str
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    """One page of items, oldest first; ``next_offset`` is null on the last page."""

    items: list[ItemRead]
    limit: int
    offset: int
    next_offset: int | None


class ItemWithOwner(BaseModel):
    """An item from this app's database, with its owner from ULM (allow-listed fields only)."""

    item: ItemRead
    owner: ULMUser

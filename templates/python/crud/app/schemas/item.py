"""Bodies for the /items routes."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ItemCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    owner_user_id: str = Field(min_length=1, max_length=64, description="Id of the owning user in ULM")


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    owner_user_id: str
    created_at: datetime


class ItemWithOwner(BaseModel):
    """An item from this app's database, with its owner as ULM returns it."""

    item: ItemRead
    owner: dict[str, Any]

"""Bodies for the /items routes."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.clients.ulm import ULMUser


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
    """An item from this app's database, with its owner from ULM (allow-listed fields only)."""

    item: ItemRead
    owner: ULMUser

"""Database models. Import every model here so Alembic's autogenerate sees it."""

from app.models.base import Base
from app.models.item import Item

__all__ = ["Base", "Item"]

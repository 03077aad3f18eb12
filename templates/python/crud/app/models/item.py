"""Example resource: an item owned by a ULM user.

``owner_user_id`` holds the id of a user that lives in ULM. It is a plain
string column — not a foreign key: ULM's tables are in ulm_db, which this app
never touches (ADR-002). Fetch the user through app.clients.ulm when needed.
"""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # A ULM user id (UUIDs and numeric ids both fit).
    owner_user_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def __repr__(self) -> str:
        return f"Item(id={self.id!r}, name={self.name!r}, owner_user_id={self.owner_user_id!r})"

"""Example resource: an item owned by a ULM user.

``owner_user_id`` holds the id of a user that lives in ULM: the caller who created the item
(taken from their token, never from the request body). It is a plain text column, not a
foreign key: ULM's tables are in ulm_db, which this app never touches (ADR-002). Fetch the user
through app.clients.ulm when needed.

Types as squawk (the migration linter in CI) asks: a bigint identity key, ``text`` with a
CHECK on its length rather than ``varchar(n)``, ``timestamptz``.
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Integer, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

NAME_MAX = 200
DESCRIPTION_MAX = 2000
OWNER_MAX = 64


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(f"length(name) BETWEEN 1 AND {NAME_MAX}", name="name_length"),
        CheckConstraint(f"length(description) <= {DESCRIPTION_MAX}", name="description_length"),
        CheckConstraint(f"length(owner_user_id) BETWEEN 1 AND {OWNER_MAX}", name="owner_user_id_length"),
    )

    # SQLite (the unit tests) numbers rows only in an INTEGER primary key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), Identity(always=True), primary_key=True
    )
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    # A ULM user id (UUIDs and numeric ids both fit).
    owner_user_id: Mapped[str] = mapped_column(Text, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    def __repr__(self) -> str:
        return f"Item(id={self.id!r}, name={self.name!r}, owner_user_id={self.owner_user_id!r})"

"""A staff member's saved queue filters."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class SavedFilter(db.Model):
    """A named set of queue filters (the query string of the queue page), private to its owner."""

    __tablename__ = "saved_filters"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uq_saved_filters_user_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    query_string: Mapped[str] = mapped_column(sa.String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""The guide for foreign press as an administrator saved it, one row per language."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import UTCDateTime, utcnow
from app.extensions import db


class GuidePage(db.Model):
    """The guide's Markdown text in one language. Without a row the default text is shown."""

    __tablename__ = "guide_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(sa.String(8), unique=True)
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)

    updated_by: Mapped[Optional[User]] = relationship()

    def __repr__(self) -> str:
        return f"<GuidePage {self.locale}>"

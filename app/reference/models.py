"""Reference data the administrator keeps (DESIGN.md section 2): escort officers, consulted
bodies, standard texts, spearhead sectors and the province's own calendar days.

Places live in app/places (the itinerary's table since the first version)."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, enum_column, utcnow
from app.extensions import db


class EscortOfficer(db.Model):
    """A province official who accompanies a crew; the letters and permits print the name, title and phone."""

    __tablename__ = "escort_officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    title_vi: Mapped[str] = mapped_column(sa.String(200), default="")
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def title(self, locale: str) -> str:
        return (self.title_vi if locale == "vi" else self.title_en) or self.title_vi or self.title_en


class BodyKind(enum.Enum):
    """What a body is to a registration: asked for an opinion, or informed of the decision."""

    border_guard = "border_guard"
    police = "police"
    host_agency = "host_agency"
    mofa = "mofa"  # the Ministry of Foreign Affairs' press department: informed of every decision
    other = "other"


class ConsultedBodyEntry(db.Model):
    """A body the province consults or informs, by its official names (seeded from the authority profile)."""

    __tablename__ = "consulted_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BodyKind] = mapped_column(enum_column(BodyKind), index=True)
    name_vi: Mapped[str] = mapped_column(sa.String(300))
    name_en: Mapped[str] = mapped_column(sa.String(300), default="")
    # The short name in "Nơi nhận" and in running text when it differs ("Công an tỉnh").
    short_name_vi: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, locale: str) -> str:
        return (self.name_vi if locale == "vi" else self.name_en) or self.name_vi


class StandardTextKind(enum.Enum):
    condition = "condition"
    refusal_reason = "refusal_reason"
    info_request = "info_request"


class StandardText(db.Model):
    """A bilingual text staff pick and may edit: a condition, a refusal reason, a request for information."""

    __tablename__ = "standard_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[StandardTextKind] = mapped_column(enum_column(StandardTextKind), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))  # how staff find it in the list (Vietnamese)
    text_vi: Mapped[str] = mapped_column(sa.Text)
    text_en: Mapped[str] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def text(self, locale: str) -> str:
        return self.text_vi if locale == "vi" else self.text_en


class SpearheadSector(db.Model):
    """A sector the province promotes; products are tagged with its code (product_sectors.code)."""

    __tablename__ = "spearhead_sectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_vi if locale == "vi" else self.name_en


class CalendarDayKind(enum.Enum):
    day_off = "day_off"  # an extra day off the province or the government decides (nghỉ bù, ...)
    working_day = "working_day"  # a Saturday or Sunday worked to make up for one (làm bù)


class CalendarDay(db.Model):
    """A day the province's working calendar treats differently from the national holiday library."""

    __tablename__ = "calendar_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    kind: Mapped[CalendarDayKind] = mapped_column(enum_column(CalendarDayKind))
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

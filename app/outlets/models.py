"""Outlets (foreign media organisations) and their crew members."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.db import UTCDateTime, enum_column, utcnow
from app.extensions import db
from app.search import FOLDED_MAX, keep_folded, trigram_index
from app.privacy.crypto import EncryptedDate, EncryptedString, passport_search_hash


class MediaType(enum.Enum):
    newspaper = "newspaper"
    magazine = "magazine"
    television = "television"
    radio = "radio"
    news_agency = "news_agency"
    online = "online"
    production_company = "production_company"
    other = "other"


class CrewRole(enum.Enum):
    reporter = "reporter"
    camera_operator = "camera_operator"
    producer = "producer"
    photographer = "photographer"
    interpreter = "interpreter"
    technician = "technician"
    other = "other"


class Outlet(db.Model):
    __tablename__ = "outlets"
    __table_args__ = (trigram_index("ix_outlets_name_folded_trgm", "name_folded"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_folded: Mapped[Optional[str]] = mapped_column(sa.String(FOLDED_MAX))  # for search (app/search.py)
    country: Mapped[str] = mapped_column(sa.String(2), index=True)  # ISO 3166 alpha-2
    media_type: Mapped[MediaType] = mapped_column(enum_column(MediaType))
    website: Mapped[Optional[str]] = mapped_column(sa.String(300))
    # A resident office in Vietnam has an address here and a MOFA accreditation number.
    is_resident_office: Mapped[bool] = mapped_column(default=False)
    office_address: Mapped[Optional[str]] = mapped_column(sa.String(300))
    mofa_accreditation_number: Mapped[Optional[str]] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    crew_members: Mapped[list["CrewMember"]] = relationship(back_populates="outlet", order_by="CrewMember.full_name")


class CrewMember(db.Model):
    """A journalist or technician of an outlet. Passport data is personal: staff and the outlet only."""

    __tablename__ = "crew_members"
    __table_args__ = (trigram_index("ix_crew_members_full_name_folded_trgm", "full_name_folded"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))  # as in the passport
    full_name_folded: Mapped[Optional[str]] = mapped_column(sa.String(FOLDED_MAX))  # for search (app/search.py)
    nationality: Mapped[str] = mapped_column(sa.String(2))
    # Encrypted at rest (app/privacy/crypto.py); None once the retention purge removed them.
    date_of_birth: Mapped[Optional[date]] = mapped_column(EncryptedDate("crew_members.date_of_birth"))
    passport_number: Mapped[Optional[str]] = mapped_column(EncryptedString("crew_members.passport_number"))
    # HMAC of the normalised number, to find a passport without decrypting every row.
    passport_number_hash: Mapped[Optional[str]] = mapped_column(sa.String(64), index=True)
    passport_expiry: Mapped[date]
    role: Mapped[CrewRole] = mapped_column(enum_column(CrewRole))
    press_card_number: Mapped[Optional[str]] = mapped_column(sa.String(64))
    photo_stored_name: Mapped[Optional[str]] = mapped_column(sa.String(200))
    photo_content_type: Mapped[Optional[str]] = mapped_column(sa.String(64))
    # Removed members stay for the registrations that name them.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The last change of the member's data: retention counts from it for data never used in a registration.
    updated_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # When the retention purge removed the passport number, date of birth and photo.
    personal_data_purged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    outlet: Mapped[Outlet] = relationship(back_populates="crew_members")

    @validates("passport_number")
    def _keep_search_hash(self, key, value):
        self.passport_number_hash = passport_search_hash(value) if value else None
        return value


keep_folded(Outlet, "name_folded", "name")
keep_folded(CrewMember, "full_name_folded", "full_name")

"""Places of the province: communes, wards and sites, some in border areas."""
from __future__ import annotations

import enum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import enum_column
from app.extensions import db
from app.search import FOLDED_MAX, keep_folded, trigram_index


class PlaceKind(enum.Enum):
    ward = "ward"  # phường
    commune = "commune"  # xã
    special_zone = "special_zone"  # đặc khu
    site = "site"  # a site inside a commune: a border gate, a factory, a monument


class Place(db.Model):
    __tablename__ = "places"
    __table_args__ = (trigram_index("ix_places_name_folded_trgm", "name_folded"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    name_folded: Mapped[Optional[str]] = mapped_column(sa.String(FOLDED_MAX))  # both names, for search
    kind: Mapped[PlaceKind] = mapped_column(enum_column(PlaceKind))
    border_area: Mapped[bool] = mapped_column(default=False, index=True)
    # The neighbouring country for a border-area place (ISO 3166 alpha-2, e.g. KH).
    border_country: Mapped[Optional[str]] = mapped_column(sa.String(2))
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_vi if locale == "vi" else self.name_en


keep_folded(Place, "name_folded", "name_vi", "name_en")

"""Places of the province: communes, wards and sites, some in border areas."""
from __future__ import annotations

import enum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import enum_column
from app.extensions import db


class PlaceKind(enum.Enum):
    ward = "ward"  # phường
    commune = "commune"  # xã
    special_zone = "special_zone"  # đặc khu
    site = "site"  # a site inside a commune: a border gate, a factory, a monument


class Place(db.Model):
    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[PlaceKind] = mapped_column(enum_column(PlaceKind))
    border_area: Mapped[bool] = mapped_column(default=False, index=True)
    # The neighbouring country for a border-area place (ISO 3166 alpha-2, e.g. KH).
    border_country: Mapped[Optional[str]] = mapped_column(sa.String(2))
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_vi if locale == "vi" else self.name_en

"""Co-produced promotional products, the post-visit report and sovereignty cases (DESIGN.md section 3).

Languages, target countries and spearhead sectors are rows of their own (not a JSON list)
so that the indicators can count them with GROUP BY in SQL.

The staff list (app/products/routes.py) is read at 50,000 products and more: the titles keep
folded copies for the accent-blind search (app/search.py, a trigram index on PostgreSQL), and
each of the list's sorts has an index in its exact order, ties broken by id, so that a page is
an index scan that stops after its rows (`sort_index`).
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, enum_column, sort_index, utcnow
from app.extensions import db
from app.search import FOLDED_MAX, keep_folded, trigram_index

class ProductType(enum.Enum):
    article = "article"
    tv_report = "tv_report"
    documentary = "documentary"
    photo_story = "photo_story"
    podcast = "podcast"
    social_video = "social_video"
    other = "other"


class Channel(enum.Enum):
    """Where the product reached its public; the outlet's own channel name is `channel_name`."""

    print = "print"
    website = "website"
    television = "television"
    radio = "radio"
    social_media = "social_media"
    podcast_platform = "podcast_platform"
    other = "other"


class CooperationType(enum.Enum):
    co_produced = "co_produced"
    facilitated = "facilitated"
    commissioned = "commissioned"


class Evaluation(enum.Enum):
    positive = "positive"
    neutral = "neutral"
    negative = "negative"


class ProductStatus(enum.Enum):
    planned = "planned"
    in_production = "in_production"
    published = "published"
    evaluated = "evaluated"


class ReportState(enum.Enum):
    """A product reported by the correspondent after the visit, as staff review it."""

    reported = "reported"  # waiting for staff
    correction_requested = "correction_requested"  # back with the correspondent
    accepted = "accepted"


class CaseStatus(enum.Enum):
    detected = "detected"
    reported = "reported"  # reported to the competent body
    handled = "handled"


product_languages = sa.Table(
    "product_languages",
    db.metadata,
    sa.Column("product_id", sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("code", sa.String(8), primary_key=True, index=True),  # ISO 639-1, e.g. "ja"
)

product_countries = sa.Table(
    "product_countries",
    db.metadata,
    sa.Column("product_id", sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("code", sa.String(2), primary_key=True, index=True),  # ISO 3166 alpha-2
)

product_sectors = sa.Table(
    "product_sectors",
    db.metadata,
    sa.Column("product_id", sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("code", sa.String(32), primary_key=True, index=True),  # a code of the authority profile
)


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("reach IS NULL OR reach >= 0", name="reach_not_negative"),
        sa.CheckConstraint("contribution_vnd IS NULL OR contribution_vnd >= 0", name="contribution_not_negative"),
        trigram_index("ix_products_title_folded_trgm", "title_folded"),
        trigram_index("ix_products_original_title_folded_trgm", "original_title_folded"),
        trigram_index("ix_products_url_folded_trgm", "url_folded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    title_folded: Mapped[Optional[str]] = mapped_column(sa.String(FOLDED_MAX))  # for search (app/search.py)
    original_title: Mapped[Optional[str]] = mapped_column(sa.String(300))
    original_title_folded: Mapped[Optional[str]] = mapped_column(sa.String(FOLDED_MAX))
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id", ondelete="RESTRICT"), index=True)
    registration_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("registrations.id", ondelete="SET NULL"),
                                                           index=True)
    type: Mapped[ProductType] = mapped_column(enum_column(ProductType), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), index=True)
    channel_name: Mapped[Optional[str]] = mapped_column(sa.String(200))  # e.g. "NHK World-Japan"
    publication_date: Mapped[Optional[date]] = mapped_column(index=True)
    url: Mapped[Optional[str]] = mapped_column(sa.String(2000))
    # For the search by a part of the address ("nhk.or.jp"): its first FOLDED_MAX characters.
    url_folded: Mapped[Optional[str]] = mapped_column(sa.String(FOLDED_MAX))
    # The SHA-256 (hex) of the URL without what does not change the page (scheme case, "www.",
    # fragment, tracking parameters, a trailing slash): unique, so the same publication is not
    # counted twice. A hash, since the normal form of a non-Latin URL outgrows any index.
    url_key: Mapped[Optional[str]] = mapped_column(sa.String(64), unique=True)
    reach: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    reach_note: Mapped[Optional[str]] = mapped_column(sa.String(300))  # what the number counts: views, copies...
    contribution_vnd: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    cooperation_type: Mapped[CooperationType] = mapped_column(enum_column(CooperationType))
    status: Mapped[ProductStatus] = mapped_column(enum_column(ProductStatus), default=ProductStatus.planned,
                                                  index=True)
    evaluation: Mapped[Optional[Evaluation]] = mapped_column(enum_column(Evaluation), index=True)
    evaluation_note: Mapped[Optional[str]] = mapped_column(sa.Text)
    evaluated_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    evaluated_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(sa.Text, default="")

    # The post-visit report: set when a correspondent reported the product.
    report_state: Mapped[Optional[ReportState]] = mapped_column(enum_column(ReportState), index=True)
    reported_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    review_note: Mapped[Optional[str]] = mapped_column(sa.Text)  # what staff asked to correct

    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    outlet = relationship("Outlet")
    registration = relationship("Registration")
    created_by = relationship("User", foreign_keys=[created_by_id])
    evaluated_by = relationship("User", foreign_keys=[evaluated_by_id])
    language_rows: Mapped[list["ProductLanguage"]] = relationship(cascade="all, delete-orphan",
                                                                  order_by="ProductLanguage.code")
    country_rows: Mapped[list["ProductCountry"]] = relationship(cascade="all, delete-orphan",
                                                                order_by="ProductCountry.code")
    sector_rows: Mapped[list["ProductSector"]] = relationship(cascade="all, delete-orphan",
                                                              order_by="ProductSector.code")
    evidence: Mapped[list["EvidenceFile"]] = relationship(back_populates="product", cascade="all, delete-orphan",
                                                          order_by="EvidenceFile.uploaded_at")
    cases: Mapped[list["SovereigntyCase"]] = relationship(back_populates="product",
                                                          order_by="SovereigntyCase.detected_on")

    @property
    def languages(self) -> list[str]:
        return [row.code for row in self.language_rows]

    @property
    def countries(self) -> list[str]:
        return [row.code for row in self.country_rows]

    @property
    def sectors(self) -> list[str]:
        return [row.code for row in self.sector_rows]


keep_folded(Product, "title_folded", "title")
keep_folded(Product, "original_title_folded", "original_title")
keep_folded(Product, "url_folded", "url")
# The staff list's sorts (app/products/routes.py SORTS), each in its ORDER BY's exact order.
sort_index("ix_products_published_order", Product.publication_date.desc().nulls_last(), Product.id.desc())
sort_index("ix_products_reach_order", Product.reach.desc().nulls_last(), Product.id.desc())
sa.Index("ix_products_title_order", Product.title_folded, Product.id)


class ProductLanguage(db.Model):
    __table__ = product_languages


class ProductCountry(db.Model):
    __table__ = product_countries


class ProductSector(db.Model):
    __table__ = product_sectors


class SovereigntyCase(db.Model):
    """Content that misrepresents national sovereignty or borders, and how it was handled.

    The content is one of our products, or any foreign publication staff come across
    (then `product_id` is empty and the title, URL and publisher describe it).
    """

    __tablename__ = "sovereignty_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    url: Mapped[Optional[str]] = mapped_column(sa.String(2000))
    publisher: Mapped[Optional[str]] = mapped_column(sa.String(200))
    country: Mapped[Optional[str]] = mapped_column(sa.String(2))
    finding: Mapped[str] = mapped_column(sa.Text)  # what was found, e.g. a map without the islands
    reported_to: Mapped[Optional[str]] = mapped_column(sa.String(300))  # the body it was reported to
    steps_taken: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.detected, index=True)
    detected_on: Mapped[date] = mapped_column(index=True)
    reported_on: Mapped[Optional[date]]
    handled_on: Mapped[Optional[date]]
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    product: Mapped[Optional[Product]] = relationship(back_populates="cases")
    evidence: Mapped[list["EvidenceFile"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                          order_by="EvidenceFile.uploaded_at")

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.handled


class EvidenceFile(db.Model):
    """A screenshot or PDF archive proving a product or a case; stored like registration attachments."""

    __tablename__ = "evidence_files"
    __table_args__ = (
        sa.CheckConstraint("(product_id IS NULL) <> (case_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("sovereignty_cases.id", ondelete="CASCADE"),
                                                   index=True)
    stored_name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    original_filename: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[Optional[str]] = mapped_column(sa.String(300))
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Optional[Product]] = relationship(back_populates="evidence")
    case: Mapped[Optional[SovereigntyCase]] = relationship(back_populates="evidence")


class ReminderKind(enum.Enum):
    first = "first"
    second = "second"


class PostVisitReminder(db.Model):
    """A reminder sent for a missing post-visit report. The unique key makes sending idempotent."""

    __tablename__ = "post_visit_reminders"
    __table_args__ = (sa.UniqueConstraint("registration_id", "kind", name="uq_post_visit_reminders_registration_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReminderKind] = mapped_column(enum_column(ReminderKind))
    due_on: Mapped[date]  # the working day the reminder became due
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recipients: Mapped[int] = mapped_column(default=0)

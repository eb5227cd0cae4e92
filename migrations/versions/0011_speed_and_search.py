"""Speed and scale: folded copies of the searchable names (search without case or diacritics,
app/search.py) with trigram indexes on PostgreSQL, the indexes the staff queue's filters and
sorts and the products list need.

The folded copies of existing rows are set here (app.search.backfill). PostgreSQL gets the
`pg_trgm` extension (trusted since PostgreSQL 13: the database's owner may create it).

Revision ID: 0011_speed_and_search
Revises: 0010_personal_data
Create Date: 2026-12-03 08:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_speed_and_search'
down_revision = '0010_personal_data'
branch_labels = None
depends_on = None

FOLDED = (
    ("outlets", "name_folded", "ix_outlets_name_folded_trgm"),
    ("crew_members", "full_name_folded", "ix_crew_members_full_name_folded_trgm"),
    ("places", "name_folded", "ix_places_name_folded_trgm"),
    ("itinerary_items", "place_text_folded", "ix_itinerary_items_place_text_folded_trgm"),
    ("products", "title_folded", "ix_products_title_folded_trgm"),
    ("products", "original_title_folded", "ix_products_original_title_folded_trgm"),
    ("products", "url_folded", "ix_products_url_folded_trgm"),
)
PLAIN_INDEXES = (
    ("ix_registration_crew_crew_member_id", "registration_crew", ["crew_member_id"]),
    ("ix_itinerary_items_place_id", "itinerary_items", ["place_id"]),
    ("ix_registrations_status_due_date", "registrations",
     ["status", "due_date", "assigned_officer_id", "proposed_decision", "returned_at"]),
    ("ix_registrations_submitted_at", "registrations", ["submitted_at"]),
    ("ix_registrations_start_date", "registrations", ["start_date", "end_date", "status", "due_date"]),
    ("ix_products_title_order", "products", ["title_folded", "id"]),
)


def _trigram(name, table, column, postgresql):
    if postgresql:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})
    else:
        op.create_index(name, table, [column])


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column, _index in FOLDED:
        op.add_column(table, sa.Column(column, sa.String(length=400), nullable=True))
    for table, column, index in FOLDED:
        _trigram(index, table, column, postgresql)
    _trigram("ix_registrations_reference_trgm", "registrations", "reference", postgresql)
    for name, table, columns in PLAIN_INDEXES:
        op.create_index(name, table, columns)
    nulls = " NULLS LAST" if postgresql else ""  # SQLite cannot write it; its DESC already puts NULLs last
    op.create_index("ix_products_published_order", "products",
                    [sa.text(f"publication_date DESC{nulls}"), sa.text("id DESC")])
    op.create_index("ix_products_reach_order", "products", [sa.text(f"reach DESC{nulls}"), sa.text("id DESC")])

    from sqlalchemy.orm import Session

    import app.outlets.models  # noqa: F401  (each model file registers its folded copies)
    import app.places.models  # noqa: F401
    import app.products.models  # noqa: F401
    import app.registrations.models  # noqa: F401
    from app.search import backfill

    session = Session(bind=op.get_bind())
    backfill(session)
    session.flush()


def downgrade():
    for name in ("ix_products_reach_order", "ix_products_published_order"):
        op.drop_index(name, table_name="products")
    for name, table, _columns in reversed(PLAIN_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_registrations_reference_trgm", table_name="registrations")
    for table, column, index in reversed(FOLDED):
        op.drop_index(index, table_name=table)
        op.drop_column(table, column)

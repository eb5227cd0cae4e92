"""The open dossiers by deadline: a partial index for the staff queue's default view and the menu's
counts (app/registrations/models.py OPEN_STATUS_SQL), and on PostgreSQL an autovacuum threshold
for registrations of 2% of its rows instead of 20%, so that the index-only scans the queue and the
counts rely on find the pages of recently changed dossiers marked all-visible again within
minutes, not after a fifth of the table has changed. The place and crew indexes carry the
registration's id (index-only reads for the border-area and nationality filters); the submission
time's index is in the "newest submission" sort's order. The tables' planner statistics afresh.

Revision ID: 0012_open_dossiers_index
Revises: 0011_speed_and_search
Create Date: 2026-12-03 10:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_open_dossiers_index'
down_revision = '0011_speed_and_search'
branch_labels = None
depends_on = None

# Written out here as it was when this migration was made (a later change of the model's constant
# needs its own migration).
OPEN_STATUS_SQL = "status IN ('submitted', 'in_review', 'needs_info')"


# The place and crew indexes of 0011 hold the registration's id too: the filters read them alone.
WIDER = (
    ("ix_itinerary_items_place_id", "ix_itinerary_items_place_registration", "itinerary_items",
     ["place_id"], ["place_id", "registration_id"]),
    ("ix_registration_crew_crew_member_id", "ix_registration_crew_member_registration", "registration_crew",
     ["crew_member_id"], ["crew_member_id", "registration_id"]),
)


def upgrade():
    for old, new, table, _old_columns, columns in WIDER:
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)
    nulls = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""  # see app/db.py sort_index
    op.create_index("ix_registrations_submitted_order", "registrations",
                    [sa.text(f"submitted_at DESC{nulls}"), sa.text("id DESC")])
    op.drop_index("ix_registrations_submitted_at", table_name="registrations")
    op.create_index("ix_registrations_open_due", "registrations", ["due_date", "id"],
                    sqlite_where=sa.text(OPEN_STATUS_SQL), postgresql_where=sa.text(OPEN_STATUS_SQL))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE registrations SET (autovacuum_vacuum_scale_factor = 0.02, "
                   "autovacuum_analyze_scale_factor = 0.02)")
    # The planner's statistics: without them SQLite does not know that the open dossiers are a
    # few of the many, and sorts them all instead of reading the new index (PostgreSQL's autovacuum
    # keeps its own; SQLite has no such thing: see README "Speed and scale").
    for table in ("registrations", "itinerary_items", "registration_crew"):
        op.execute(f"ANALYZE {table}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE registrations RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)")
    op.drop_index("ix_registrations_open_due", table_name="registrations")
    op.create_index("ix_registrations_submitted_at", "registrations", ["submitted_at"])
    op.drop_index("ix_registrations_submitted_order", table_name="registrations")
    for old, new, table, old_columns, _columns in reversed(WIDER):
        op.create_index(old, table, old_columns)
        op.drop_index(new, table_name=table)

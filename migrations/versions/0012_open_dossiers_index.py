"""The open dossiers by deadline: a partial index for the staff queue's default view and the menu's
counts (app/registrations/models.py OPEN_STATUS_SQL), and on PostgreSQL an autovacuum threshold
for registrations of 2% of its rows instead of 20%, so that the index-only scans the queue and the
counts rely on find the pages of recently changed dossiers marked all-visible again within
minutes, not after a fifth of the table has changed. The table's planner statistics afresh.

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


def upgrade():
    op.create_index("ix_registrations_open_due", "registrations", ["due_date", "id"],
                    sqlite_where=sa.text(OPEN_STATUS_SQL), postgresql_where=sa.text(OPEN_STATUS_SQL))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE registrations SET (autovacuum_vacuum_scale_factor = 0.02, "
                   "autovacuum_analyze_scale_factor = 0.02)")
    # The planner's statistics: without them SQLite does not know that the open dossiers are a
    # few of the many, and sorts them all instead of reading the new index (PostgreSQL's autovacuum
    # keeps its own; SQLite has no such thing: see README "Speed and scale").
    op.execute("ANALYZE registrations")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE registrations RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)")
    op.drop_index("ix_registrations_open_due", table_name="registrations")

"""The registrations in force (approved or completed) by programme end: a partial index for the
overdue post-visit reports, read oldest first (app/registrations/models.py IN_FORCE_STATUSES), and
for the reminders, which look at the same registrations by end date.

Revision ID: 0013_in_force_end_index
Revises: 0012_open_dossiers_index
Create Date: 2026-12-03 13:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_in_force_end_index'
down_revision = '0012_open_dossiers_index'
branch_labels = None
depends_on = None

# Written out here as it was when this migration was made (a later change of the model's constant
# needs its own migration).
IN_FORCE_STATUS_SQL = "status IN ('approved', 'completed')"


def upgrade():
    op.create_index("ix_registrations_in_force_end", "registrations", ["end_date", "id"],
                    sqlite_where=sa.text(IN_FORCE_STATUS_SQL), postgresql_where=sa.text(IN_FORCE_STATUS_SQL))
    op.execute("ANALYZE registrations")  # SQLite plans with the new index only once it has statistics


def downgrade():
    op.drop_index("ix_registrations_in_force_end", table_name="registrations")

"""One officer's dossiers by status: the worklist menu's counts of "assigned to me", "returned to me"
and "not assigned" read that officer's index entries only. Replaces the single-column index of the
foreign key, which this one serves as well.

Revision ID: 0014_officer_status_index
Revises: 0013_in_force_end_index
Create Date: 2026-12-04 02:00:00

"""
from alembic import op


revision = '0014_officer_status_index'
down_revision = '0013_in_force_end_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_registrations_officer_status", "registrations",
                    ["assigned_officer_id", "status", "returned_at", "proposed_decision"])
    op.drop_index("ix_registrations_assigned_officer_id", table_name="registrations")
    op.execute("ANALYZE registrations")  # SQLite plans with the new index only once it has statistics


def downgrade():
    op.create_index("ix_registrations_assigned_officer_id", "registrations", ["assigned_officer_id"])
    op.drop_index("ix_registrations_officer_status", table_name="registrations")

"""Outbox: the claim token of the sender that holds a message (the worker records the outcome
only while the claim is still its own), and when a failed message was put back.

Revision ID: 0005_outbox
Revises: 0004_products
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_outbox'
down_revision = '0004_products'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('retried_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('retried_at')
        batch_op.drop_column('claim_token')

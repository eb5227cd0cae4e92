"""A product's URL key becomes the SHA-256 of the normalised URL (64 hex characters).

The normalised URL itself outgrew its column (and PostgreSQL's index row limit) for long
non-Latin addresses, since percent-encoding makes it several times longer than the URL.

Revision ID: 0006_input_limits
Revises: 0005_outbox
Create Date: 2026-12-02 09:00:00

"""
import hashlib

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_input_limits'
down_revision = '0005_outbox'
branch_labels = None
depends_on = None

products = sa.table('products', sa.column('id', sa.Integer), sa.column('url', sa.String),
                    sa.column('url_key', sa.String))


def upgrade():
    connection = op.get_bind()
    # The stored key is the normalised URL: its hash is the new key, with no need to normalise again.
    rows = connection.execute(sa.select(products.c.id, products.c.url_key).where(products.c.url_key.is_not(None)))
    for product_id, key in rows.all():
        digest = hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()
        connection.execute(products.update().where(products.c.id == product_id).values(url_key=digest))
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.alter_column('url_key', existing_type=sa.String(length=2000), type_=sa.String(length=64),
                              existing_nullable=True)


def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.alter_column('url_key', existing_type=sa.String(length=64), type_=sa.String(length=2000),
                              existing_nullable=True)
    # A hash cannot be undone: the normal form is computed again from the URL.
    from app.products.service import normalised_url

    connection = op.get_bind()
    rows = connection.execute(sa.select(products.c.id, products.c.url).where(products.c.url_key.is_not(None)))
    for product_id, url in rows.all():
        connection.execute(products.update().where(products.c.id == product_id)
                           .values(url_key=normalised_url(url)))

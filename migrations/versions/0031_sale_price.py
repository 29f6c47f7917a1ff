"""A listing's sale price for a period

Revision ID: 0031
Revises: 0029
Create Date: 2026-12-05 14:40:00

"""
from alembic import op
import sqlalchemy as sa

from app.core.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sale_price_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('sale_starts_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sale_ends_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_product_sale_price_positive'), 'sale_price_amount > 0')


def downgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_product_sale_price_positive'), type_='check')
        batch_op.drop_column('sale_ends_at')
        batch_op.drop_column('sale_starts_at')
        batch_op.drop_column('sale_price_amount')

"""A listing's sale price for a period; the discounts orders keep

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
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_amount', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_price_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('discount_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('discount_source', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('discount_payer', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_order_line_discount_non_negative'), 'discount_amount >= 0')


def downgrade():
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_line_discount_non_negative'), type_='check')
        batch_op.drop_column('discount_payer')
        batch_op.drop_column('discount_source')
        batch_op.drop_column('discount_amount')
        batch_op.drop_column('list_price_amount')
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_column('discount_amount')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_product_sale_price_positive'), type_='check')
        batch_op.drop_column('sale_ends_at')
        batch_op.drop_column('sale_starts_at')
        batch_op.drop_column('sale_price_amount')

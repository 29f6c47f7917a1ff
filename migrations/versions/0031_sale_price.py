"""A listing's sale price for a period; shop coupons; the discounts orders keep

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 14:40:00

"""
from alembic import op
import sqlalchemy as sa

from app.core.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
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
        batch_op.add_column(sa.Column('coupon_code', sa.String(length=32), nullable=True))
    op.create_table('coupon',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('min_order_amount', sa.BigInteger(), nullable=False),
    sa.Column('starts_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('ended_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('percent', 'amount')", name=op.f('ck_coupon_kind_known')),
    sa.CheckConstraint('value > 0', name=op.f('ck_coupon_value_positive')),
    sa.CheckConstraint('min_order_amount >= 0', name=op.f('ck_coupon_min_order_non_negative')),
    sa.CheckConstraint('max_uses > 0', name=op.f('ck_coupon_max_uses_positive')),
    sa.CheckConstraint('uses >= 0 AND uses <= max_uses', name=op.f('ck_coupon_uses_in_range')),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_coupon_seller_id_seller')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon')),
    sa.UniqueConstraint('seller_id', 'code', name='uq_coupon_seller_id_code')
    )
    op.create_index(op.f('ix_coupon_seller_id'), 'coupon', ['seller_id'], unique=False)
    op.create_table('coupon_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('coupon_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_coupon_use_coupon_id_coupon')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_coupon_use_payment_id_payment')),
    sa.ForeignKeyConstraint(['customer_id'], ['user.id'], name=op.f('fk_coupon_use_customer_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_coupon_use_order_id_shop_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_use')),
    sa.UniqueConstraint('coupon_id', 'payment_id', name='uq_coupon_use_coupon_id_payment_id')
    )
    op.create_index(op.f('ix_coupon_use_coupon_id'), 'coupon_use', ['coupon_id'], unique=False)
    op.create_index(op.f('ix_coupon_use_customer_id'), 'coupon_use', ['customer_id'], unique=False)
    op.create_index(op.f('ix_coupon_use_order_id'), 'coupon_use', ['order_id'], unique=False)
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
    op.drop_index(op.f('ix_coupon_use_order_id'), table_name='coupon_use')
    op.drop_index(op.f('ix_coupon_use_customer_id'), table_name='coupon_use')
    op.drop_index(op.f('ix_coupon_use_coupon_id'), table_name='coupon_use')
    op.drop_table('coupon_use')
    op.drop_index(op.f('ix_coupon_seller_id'), table_name='coupon')
    op.drop_table('coupon')
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_column('coupon_code')
        batch_op.drop_column('discount_amount')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_product_sale_price_positive'), type_='check')
        batch_op.drop_column('sale_ends_at')
        batch_op.drop_column('sale_starts_at')
        batch_op.drop_column('sale_price_amount')

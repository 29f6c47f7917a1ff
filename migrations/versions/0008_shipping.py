"""Shipping methods per seller, vacation mode, and each order's shipping method and dates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 04:20:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.dbtypes


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shipping_method',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.Enum('post_pishtaz', 'post_sefareshi', 'tipax', 'courier', 'pickup', name="carrier", native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('flat_amount', sa.BigInteger(), nullable=False),
    sa.Column('province_amounts', sa.JSON(), nullable=False),
    sa.Column('free_over_amount', sa.BigInteger(), nullable=True),
    sa.Column('per_extra_item_amount', sa.BigInteger(), nullable=False),
    sa.Column('processing_days', sa.Integer(), nullable=False),
    sa.Column('delivery_min_days', sa.Integer(), nullable=False),
    sa.Column('delivery_max_days', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('flat_amount >= 0', name=op.f('ck_shipping_method_flat_non_negative')),
    sa.CheckConstraint('free_over_amount IS NULL OR free_over_amount >= 0', name=op.f('ck_shipping_method_free_over_non_negative')),
    sa.CheckConstraint('per_extra_item_amount >= 0', name=op.f('ck_shipping_method_per_item_non_negative')),
    sa.CheckConstraint('processing_days >= 0 AND delivery_min_days >= 0 AND delivery_max_days >= delivery_min_days', name=op.f('ck_shipping_method_days_in_order')),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_shipping_method_seller_id_seller'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipping_method'))
    )
    with op.batch_alter_table('shipping_method', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipping_method_seller_id'), ['seller_id'], unique=False)

    with op.batch_alter_table('seller', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('away_note', sa.String(length=300), nullable=True))

    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipping_method_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shipping_carrier', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('shipping_method_name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('ship_by', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('deliver_by', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_shop_order_shipping_method_id_shipping_method'), 'shipping_method', ['shipping_method_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_shop_order_shipping_method_id_shipping_method'), type_='foreignkey')
        batch_op.drop_column('deliver_by')
        batch_op.drop_column('ship_by')
        batch_op.drop_column('shipping_method_name')
        batch_op.drop_column('shipping_carrier')
        batch_op.drop_column('shipping_method_id')

    with op.batch_alter_table('seller', schema=None) as batch_op:
        batch_op.drop_column('away_note')
        batch_op.drop_column('away_until')

    with op.batch_alter_table('shipping_method', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipping_method_seller_id'))

    op.drop_table('shipping_method')

"""Market campaigns across shops; the market's part of an order's discount; ledger kinds

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05 16:40:00

"""
from alembic import op
import sqlalchemy as sa

from app.core.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

OLD_KINDS = ("kind IN ('sale', 'commission', 'cash_collected', 'refund', "
             "'commission_reversal', 'cash_returned', 'payout')")
NEW_KINDS = ("kind IN ('sale', 'commission', 'cash_collected', 'refund', "
             "'commission_reversal', 'cash_returned', 'payout', 'campaign_credit', "
             "'campaign_reversal')")


def _kinds(condition):
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ledger_entry_entrykind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_ledger_entry_entrykind'), condition)


def upgrade():
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_fa', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('cap_amount', sa.BigInteger(), nullable=True),
    sa.Column('payer', sa.String(length=10), nullable=False),
    sa.Column('starts_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('percent >= 1 AND percent <= 90', name=op.f('ck_campaign_percent_range')),
    sa.CheckConstraint('cap_amount > 0', name=op.f('ck_campaign_cap_positive')),
    sa.CheckConstraint("payer IN ('market', 'seller')", name=op.f('ck_campaign_payer_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_campaign_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    op.create_index('ix_campaign_period', 'campaign', ['ends_at', 'starts_at'], unique=False)
    op.create_table('campaign_category',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_category_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_campaign_category_category_id_category')),
    sa.PrimaryKeyConstraint('campaign_id', 'category_id', name=op.f('pk_campaign_category'))
    )
    op.create_table('campaign_shop',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_shop_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_campaign_shop_seller_id_seller')),
    sa.PrimaryKeyConstraint('campaign_id', 'seller_id', name=op.f('pk_campaign_shop'))
    )
    op.create_index(op.f('ix_campaign_shop_seller_id'), 'campaign_shop', ['seller_id'], unique=False)
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('market_discount_amount', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('market_discount_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.alter_column('discount_payer', existing_type=sa.String(length=10),
                              type_=sa.String(length=20), existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_order_line_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_line_campaign_id_campaign'), 'campaign', ['campaign_id'], ['id'])
    _kinds(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM ledger_entry WHERE kind IN ('campaign_credit', 'campaign_reversal')")
    _kinds(OLD_KINDS)
    op.execute("UPDATE order_line SET discount_payer = 'market' WHERE length(discount_payer) > 10")
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_line_campaign_id_campaign'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_line_campaign_id'))
        batch_op.alter_column('discount_payer', existing_type=sa.String(length=20),
                              type_=sa.String(length=10), existing_nullable=True)
        batch_op.drop_column('campaign_id')
        batch_op.drop_column('market_discount_amount')
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_column('market_discount_amount')
    op.drop_index(op.f('ix_campaign_shop_seller_id'), table_name='campaign_shop')
    op.drop_table('campaign_shop')
    op.drop_table('campaign_category')
    op.drop_index('ix_campaign_period', table_name='campaign')
    op.drop_table('campaign')

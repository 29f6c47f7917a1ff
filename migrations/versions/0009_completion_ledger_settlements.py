"""Order completion, commission, the sellers' ledger, Sheba numbers and settlement batches

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 04:20:00

"""
from alembic import op
import sqlalchemy as sa
import app.core.dbtypes


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OLD_STATUSES = "'awaiting_payment', 'placed', 'confirmed', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'"
NEW_STATUSES = "'awaiting_payment', 'placed', 'confirmed', 'paid', 'shipped', 'delivered', 'completed', 'cancelled', 'refunded'"


def _statuses(values: str) -> None:
    """Recreate the CHECKs of the order status columns with ``values``."""
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_shop_order_orderstatus'), type_='check')
        batch_op.create_check_constraint('orderstatus', f"status IN ({values})")
    with op.batch_alter_table('order_status_change', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_status_change_from_status'), type_='check')
        batch_op.drop_constraint(op.f('ck_order_status_change_to_status'), type_='check')
        batch_op.create_check_constraint('from_status', f"from_status IN ({values})")
        batch_op.create_check_constraint('to_status', f"to_status IN ({values})")


def upgrade():
    op.create_table('settlement_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('period_end', app.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'paid', 'discarded', name='batchstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('open_slot', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['closed_by'], ['user.id'], name=op.f('fk_settlement_batch_closed_by_user')),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_settlement_batch_created_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_batch')),
    sa.UniqueConstraint('open_slot', name=op.f('uq_settlement_batch_open_slot')),
    sa.UniqueConstraint('reference', name=op.f('uq_settlement_batch_reference'))
    )
    op.create_table('settlement_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('sheba', sa.String(length=26), nullable=True),
    sa.Column('account_name', sa.String(length=120), nullable=False),
    sa.Column('skip_reason', sa.String(length=40), nullable=True),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_settlement_line_amount_non_negative')),
    sa.ForeignKeyConstraint(['batch_id'], ['settlement_batch.id'], name=op.f('fk_settlement_line_batch_id_settlement_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_settlement_line_seller_id_seller')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_line')),
    sa.UniqueConstraint('batch_id', 'seller_id', name='uq_settlement_line_batch_seller')
    )
    with op.batch_alter_table('settlement_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlement_line_seller_id'), ['seller_id'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('sale', 'commission', 'cash_collected', 'refund', 'commission_reversal', 'cash_returned', 'payout', name='entrykind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['settlement_batch.id'], name=op.f('fk_ledger_entry_batch_id_settlement_batch')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_ledger_entry_order_id_shop_order')),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_ledger_entry_seller_id_seller')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry')),
    sa.UniqueConstraint('key', name=op.f('uq_ledger_entry_key'))
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entry_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entry_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_ledger_entry_seller_created', ['seller_id', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commission_rate_bp', sa.Integer(), nullable=True))

    with op.batch_alter_table('seller', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sheba', sa.String(length=26), nullable=True))

    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipped_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('completed_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('commission_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('refunded_amount', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
        batch_op.create_index('ix_order_status_shipped', ['status', 'shipped_at'], unique=False)

    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'commission_rate_range', 'commission_rate_bp >= 0 AND commission_rate_bp <= 10000'
        )

    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.create_check_constraint('commission_non_negative', 'commission_amount >= 0')
        batch_op.create_check_constraint(
            'refunded_in_range', 'refunded_amount >= 0 AND refunded_amount <= total_amount'
        )
    _statuses(NEW_STATUSES)

    # Orders shipped before this change start their receipt window at their recorded shipping.
    op.execute(
        "UPDATE shop_order SET shipped_at = (SELECT max(c.created_at) FROM order_status_change c "
        "WHERE c.order_id = shop_order.id AND c.to_status = 'shipped') "
        "WHERE status IN ('shipped', 'delivered')"
    )


def downgrade():
    op.execute("UPDATE shop_order SET status = 'delivered' WHERE status = 'completed'")
    op.execute("UPDATE order_status_change SET to_status = 'delivered' WHERE to_status = 'completed'")
    op.execute(
        "UPDATE order_status_change SET from_status = 'delivered' WHERE from_status = 'completed'"
    )
    _statuses(OLD_STATUSES)
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_shop_order_refunded_in_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_shop_order_commission_non_negative'), type_='check')
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_category_commission_rate_range'), type_='check')
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_index('ix_order_status_shipped')
        batch_op.drop_column('refunded_amount')
        batch_op.drop_column('commission_amount')
        batch_op.drop_column('completed_at')
        batch_op.drop_column('shipped_at')

    with op.batch_alter_table('seller', schema=None) as batch_op:
        batch_op.drop_column('sheba')

    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_column('commission_rate_bp')

    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entry_seller_created')
        batch_op.drop_index(batch_op.f('ix_ledger_entry_order_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entry_batch_id'))

    op.drop_table('ledger_entry')
    with op.batch_alter_table('settlement_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlement_line_seller_id'))

    op.drop_table('settlement_line')
    op.drop_table('settlement_batch')

"""Back-in-stock alerts

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 14:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stock_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_stock_alert_product_id_product'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_stock_alert_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_alert'))
    )
    op.create_index(op.f('ix_stock_alert_user_id'), 'stock_alert', ['user_id'], unique=False)
    op.create_index('ix_stock_alert_product_waiting', 'stock_alert', ['product_id', 'notified_at'], unique=False)
    op.create_index('uq_stock_alert_waiting', 'stock_alert', ['user_id', 'product_id'], unique=True, postgresql_where=sa.text('notified_at IS NULL'), sqlite_where=sa.text('notified_at IS NULL'))


def downgrade():
    op.drop_index('uq_stock_alert_waiting', table_name='stock_alert')
    op.drop_index('ix_stock_alert_product_waiting', table_name='stock_alert')
    op.drop_index(op.f('ix_stock_alert_user_id'), table_name='stock_alert')
    op.drop_table('stock_alert')

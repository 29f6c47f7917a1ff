"""Booth mode: an offline sale's client key (one record per entry a phone sent) and how it was paid

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-05 16:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offline_sale', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('payment_method', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_offline_sale_payment_method_known'),
            "payment_method IN ('cash', 'card')",
        )
        batch_op.create_index(
            'uq_offline_sale_seller_client_key', ['seller_id', 'client_key'], unique=True
        )


def downgrade():
    with op.batch_alter_table('offline_sale', schema=None) as batch_op:
        batch_op.drop_index('uq_offline_sale_seller_client_key')
        batch_op.drop_constraint(batch_op.f('ck_offline_sale_payment_method_known'), type_='check')
        batch_op.drop_column('payment_method')
        batch_op.drop_column('client_key')

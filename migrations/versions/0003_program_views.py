"""Product views per day and county reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Views of a product page per local day, flushed in batches; the county reports read them
    # with the quotas and the sales summary rows that already exist.
    op.create_table('product_view_day',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('views >= 0', name=op.f('ck_product_view_day_views_non_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_view_day_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', 'day', name=op.f('pk_product_view_day'))
    )
    with op.batch_alter_table('product_view_day', schema=None) as batch_op:
        batch_op.create_index('ix_product_view_day_day', ['day'], unique=False)


def downgrade():
    with op.batch_alter_table('product_view_day', schema=None) as batch_op:
        batch_op.drop_index('ix_product_view_day_day')

    op.drop_table('product_view_day')

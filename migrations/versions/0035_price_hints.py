"""Fair-price hints: summary rows of the asking prices per category, per county and market-wide

Revision ID: 0035
Revises: 0033
Create Date: 2026-12-05 16:17:31.101016

"""
from alembic import op
import sqlalchemy as sa

from app.core.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0035'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('price_hint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('listings', sa.Integer(), nullable=False),
    sa.Column('low_amount', sa.BigInteger(), nullable=False),
    sa.Column('quarter_amount', sa.BigInteger(), nullable=False),
    sa.Column('median_amount', sa.BigInteger(), nullable=False),
    sa.Column('three_quarters_amount', sa.BigInteger(), nullable=False),
    sa.Column('high_amount', sa.BigInteger(), nullable=False),
    sa.Column('computed_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_price_hint_category_id_category'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_hint')),
    sa.UniqueConstraint('category_id', 'county_id', name='uq_price_hint_category_county')
    )


def downgrade():
    op.drop_table('price_hint')

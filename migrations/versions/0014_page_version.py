"""Versions of the storefront pages by scope (a listing's change leaves other pages cached)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 10:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('page_version',
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_page_version'))
    )


def downgrade():
    op.drop_table('page_version')

"""The market's own pages (about, contact, terms, returns, privacy, the programme badge), stored
so staff can edit them, with their first texts in Persian and English; an index of each seller's
shipments (the product page's typical shipping time)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 14:00:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import app.core.dbtypes
from app.pages.defaults import PAGES


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_order_seller_shipped', 'shop_order', ['seller_id', 'shipped_at'], unique=False)
    site_page = op.create_table('site_page',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('title_fa', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('body_fa', sa.Text(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('updated_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_site_page_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_site_page'))
    )
    # The texts as this release wrote them; later releases change them through staff's edits.
    now = datetime.now(timezone.utc)
    op.bulk_insert(site_page, [
        {'key': key, 'title_fa': text.title_fa, 'title_en': text.title_en,
         'body_fa': text.body_fa, 'body_en': text.body_en, 'updated_at': now,
         'updated_by_id': None}
        for key, text in PAGES.items()
    ])


def downgrade():
    op.drop_index('ix_order_seller_shipped', table_name='shop_order')
    op.drop_table('site_page')

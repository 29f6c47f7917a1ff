"""Listing on a seller's behalf: the seller's consent (given by reading out a texted code,
until revoked) and the "listed with help" marker on a listing (who helped, when)

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-05 17:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.core.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('listing_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=False),
    sa.Column('granted_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_listing_consent_revoked_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_listing_consent_seller_id_seller'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['user.id'], name=op.f('fk_listing_consent_staff_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_consent'))
    )
    with op.batch_alter_table('listing_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_consent_seller_id'), ['seller_id'], unique=False)

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assisted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assisted_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_product_assisted_by_id'), ['assisted_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_product_assisted_by_id_user'), 'user', ['assisted_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_product_assisted_by_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_product_assisted_by_id'))
        batch_op.drop_column('assisted_at')
        batch_op.drop_column('assisted_by_id')

    with op.batch_alter_table('listing_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_consent_seller_id'))

    op.drop_table('listing_consent')

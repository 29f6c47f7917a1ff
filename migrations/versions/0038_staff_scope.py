"""Staff with a scope: county officers and support organisations (their staff accounts see their
own county's or cohort's sellers only); the organisation that assists a seller

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-05 16:21:45.509794

"""
from alembic import op
import sqlalchemy as sa

from app.core.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('support_organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_support_organisation_name'))
    )
    op.create_table('staff_scope',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(county_id IS NULL) <> (organisation_id IS NULL)', name=op.f('ck_staff_scope_one_of_county_organisation')),
    sa.ForeignKeyConstraint(['county_id'], ['county.id'], name=op.f('fk_staff_scope_county_id_county')),
    sa.ForeignKeyConstraint(['organisation_id'], ['support_organisation.id'], name=op.f('fk_staff_scope_organisation_id_support_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_staff_scope_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_staff_scope'))
    )
    with op.batch_alter_table('seller', schema=None) as batch_op:
        batch_op.add_column(sa.Column('support_organisation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_seller_support_organisation_id'), ['support_organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_seller_support_organisation_id_support_organisation'), 'support_organisation', ['support_organisation_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('seller', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_seller_support_organisation_id_support_organisation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_seller_support_organisation_id'))
        batch_op.drop_column('support_organisation_id')

    op.drop_table('staff_scope')
    op.drop_table('support_organisation')

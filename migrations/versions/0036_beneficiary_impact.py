"""The beneficiary's record (one per seller), their loans, and orders flagged for self-dealing

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-05 16:22:24.858067

"""
from alembic import op
import sqlalchemy as sa

from app.core.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('beneficiary',
    sa.Column('seller_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('cohort', sa.String(length=60), nullable=True),
    sa.Column('gender', sa.Enum('female', 'male', name='gender', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('age_band', sa.Enum('under_25', '25_34', '35_44', '45_54', '55_plus', name='age_band', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('locality', sa.Enum('rural', 'urban', name='locality', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('income_band', sa.Enum('none', 'under_5m', '5m_10m', '10m_20m', 'over_20m', name='income_band', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('other_support', sa.Text(), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_beneficiary_seller_id_seller'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_beneficiary_updated_by_id_user')),
    sa.PrimaryKeyConstraint('seller_id', name=op.f('pk_beneficiary'))
    )
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_cohort'), ['cohort'], unique=False)

    op.create_table('loan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=False),
    sa.Column('bank', sa.String(length=100), nullable=False),
    sa.Column('purpose', sa.Enum('handicrafts', 'tourism', 'industry', 'services', name='purpose', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('repayment', sa.Enum('current', 'late', 'repaid', 'defaulted', name='repayment', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_loan_amount_positive')),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_loan_seller_id_seller'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan'))
    )
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_seller_id'), ['seller_id'], unique=False)

    op.create_table('sales_flag',
    sa.Column('order_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.String(length=60), nullable=False),
    sa.Column('status', sa.Enum('pending', 'cleared', 'confirmed', name='flag_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('flagged_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_sales_flag_decided_by_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_sales_flag_order_id_shop_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_sales_flag_seller_id_seller')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_sales_flag'))
    )
    with op.batch_alter_table('sales_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_flag_seller_id'), ['seller_id'], unique=False)
        batch_op.create_index('ix_sales_flag_status_flagged', ['status', 'flagged_at'], unique=False)



def downgrade():
    with op.batch_alter_table('sales_flag', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_flag_status_flagged')
        batch_op.drop_index(batch_op.f('ix_sales_flag_seller_id'))

    op.drop_table('sales_flag')
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loan_seller_id'))

    op.drop_table('loan')
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_cohort'))

    op.drop_table('beneficiary')

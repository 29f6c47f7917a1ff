"""Problems customers report on shipped orders (photos, the seller's reply, staff decision)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 04:20:00

"""
from alembic import op
import sqlalchemy as sa
import app.core.dbtypes


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('problem_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('open_order_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('not_received', 'damaged', 'not_as_described', name='problemkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('photo_keys', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('open', 'answered', 'refunded', 'closed', name='problemstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('seller_reply', sa.Text(), nullable=True),
    sa.Column('replied_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('refund_amount', sa.BigInteger(), nullable=True),
    sa.Column('created_at', app.core.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('refund_amount >= 0', name=op.f('ck_problem_report_refund_non_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['user.id'], name=op.f('fk_problem_report_customer_id_user')),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], name=op.f('fk_problem_report_decided_by_user')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_problem_report_order_id_shop_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_report')),
    sa.UniqueConstraint('open_order_id', name=op.f('uq_problem_report_open_order_id'))
    )
    with op.batch_alter_table('problem_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_report_order_id'), ['order_id'], unique=False)



def downgrade():
    with op.batch_alter_table('problem_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_report_order_id'))

    op.drop_table('problem_report')

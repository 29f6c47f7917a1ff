"""Problems customers report on orders, and their photos

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 04:20:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('order_problem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('not_received', 'damaged', 'not_as_described', name='problemkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'answered', 'escalated', 'refunding', 'refunded', 'closed', name='problemstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('seller_reply', sa.Text(), nullable=True),
    sa.Column('seller_replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Enum('refund', 'cash_refund', 'closed', 'withdrawn', name='resolution', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('refund_amount', sa.BigInteger(), nullable=True),
    sa.Column('refund_reference', sa.String(length=255), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('refund_amount IS NULL OR refund_amount > 0', name=op.f('ck_order_problem_refund_amount_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['user.id'], name=op.f('fk_order_problem_customer_id_user')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_order_problem_decided_by_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_order_problem_order_id_shop_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_order_problem_seller_id_seller')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_problem')),
    sa.UniqueConstraint('order_id', name=op.f('uq_order_problem_order_id'))
    )
    with op.batch_alter_table('order_problem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_problem_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_problem_seller_id'), ['seller_id'], unique=False)
        batch_op.create_index('ix_order_problem_status_created', ['status', 'created_at'], unique=False)

    op.create_table('order_problem_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('small_key', sa.String(length=255), nullable=False),
    sa.Column('large_key', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['order_problem.id'], name=op.f('fk_order_problem_photo_problem_id_order_problem'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_problem_photo')),
    sa.UniqueConstraint('problem_id', 'position', name='problem_position')
    )
    with op.batch_alter_table('order_problem_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_problem_photo_problem_id'), ['problem_id'], unique=False)



def downgrade():
    with op.batch_alter_table('order_problem_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_problem_photo_problem_id'))

    op.drop_table('order_problem_photo')
    with op.batch_alter_table('order_problem', schema=None) as batch_op:
        batch_op.drop_index('ix_order_problem_status_created')
        batch_op.drop_index(batch_op.f('ix_order_problem_seller_id'))
        batch_op.drop_index(batch_op.f('ix_order_problem_customer_id'))

    op.drop_table('order_problem')

"""Buyer–seller conversations and their messages

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 11:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('customer_read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seller_read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_by', sa.Integer(), nullable=True),
    sa.Column('report_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['user.id'], name=op.f('fk_conversation_customer_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_order.id'], name=op.f('fk_conversation_order_id_shop_order')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_conversation_product_id_product'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reported_by'], ['user.id'], name=op.f('fk_conversation_reported_by_user')),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_conversation_seller_id_seller')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation'))
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_customer_updated', ['customer_id', 'updated_at'], unique=False)
        batch_op.create_index('ix_conversation_reported', ['reported_at'], unique=False)
        batch_op.create_index('ix_conversation_seller_updated', ['seller_id', 'updated_at'], unique=False)
    op.create_table('conversation_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_by', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_conversation_message_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hidden_by'], ['user.id'], name=op.f('fk_conversation_message_hidden_by_user')),
    sa.ForeignKeyConstraint(['sender_id'], ['user.id'], name=op.f('fk_conversation_message_sender_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_message'))
    )
    with op.batch_alter_table('conversation_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_message_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_conversation_message_sender_created', ['sender_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('conversation_message', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_message_sender_created')
        batch_op.drop_index(batch_op.f('ix_conversation_message_conversation_id'))
    op.drop_table('conversation_message')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_seller_updated')
        batch_op.drop_index('ix_conversation_reported')
        batch_op.drop_index('ix_conversation_customer_updated')
    op.drop_table('conversation')

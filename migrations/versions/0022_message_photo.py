"""Photos of conversation messages

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 13:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('small_key', sa.String(length=255), nullable=False),
    sa.Column('large_key', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['conversation_message.id'], name=op.f('fk_message_photo_message_id_conversation_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_photo')),
    sa.UniqueConstraint('message_id', 'position', name='message_photo_position')
    )
    with op.batch_alter_table('message_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_photo_message_id'), ['message_id'], unique=False)


def downgrade():
    with op.batch_alter_table('message_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_photo_message_id'))

    op.drop_table('message_photo')

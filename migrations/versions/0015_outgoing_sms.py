"""Text messages waiting for the job worker (the SMS channel's outbox)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 10:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outgoing_sms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('to', sa.String(length=20), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('provider_id', sa.String(length=100), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_outgoing_sms_recipient_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_sms'))
    )
    with op.batch_alter_table('outgoing_sms', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_sms_sent_created', ['sent_at', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_sms_recipient_id'), ['recipient_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outgoing_sms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_sms_recipient_id'))
        batch_op.drop_index('ix_outgoing_sms_sent_created')
    op.drop_table('outgoing_sms')

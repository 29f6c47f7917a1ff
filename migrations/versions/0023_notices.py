"""The in-site list of notices: one row per user and event, read or unread

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notice_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice'))
    )
    op.create_index('ix_notice_user_created', 'notice', ['user_id', 'created_at'], unique=False)
    op.create_index('ix_notice_user_unread', 'notice', ['user_id', 'read_at'], unique=False)


def downgrade():
    op.drop_index('ix_notice_user_unread', table_name='notice')
    op.drop_index('ix_notice_user_created', table_name='notice')
    op.drop_table('notice')

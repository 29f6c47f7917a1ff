"""The addresses customers shipped to, offered again at checkout

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 11:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('recipient_name', sa.String(length=120), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('province', sa.String(length=100), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_saved_address_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_address'))
    )
    with op.batch_alter_table('saved_address', schema=None) as batch_op:
        batch_op.create_index('ix_saved_address_user_used', ['user_id', 'last_used_at'], unique=False)


def downgrade():
    with op.batch_alter_table('saved_address', schema=None) as batch_op:
        batch_op.drop_index('ix_saved_address_user_used')
    op.drop_table('saved_address')

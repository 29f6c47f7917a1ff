"""Photos uploaded on the listing form before the listing is saved

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staged_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('original_key', sa.String(length=200), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_staged_photo_seller_id_seller'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_photo')),
    sa.UniqueConstraint('token', name=op.f('uq_staged_photo_token'))
    )
    op.create_index(op.f('ix_staged_photo_created_at'), 'staged_photo', ['created_at'], unique=False)
    op.create_index(op.f('ix_staged_photo_original_key'), 'staged_photo', ['original_key'], unique=False)
    op.create_index(op.f('ix_staged_photo_seller_id'), 'staged_photo', ['seller_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_staged_photo_seller_id'), table_name='staged_photo')
    op.drop_index(op.f('ix_staged_photo_original_key'), table_name='staged_photo')
    op.drop_index(op.f('ix_staged_photo_created_at'), table_name='staged_photo')
    op.drop_table('staged_photo')

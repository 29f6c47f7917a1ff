"""Favourite products and followed shops

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('favourite',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_favourite_product_id_product'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_favourite_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'product_id', name=op.f('pk_favourite'))
    )
    op.create_index(op.f('ix_favourite_product_id'), 'favourite', ['product_id'], unique=False)
    op.create_table('followed_shop',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_followed_shop_seller_id_seller'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_followed_shop_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'seller_id', name=op.f('pk_followed_shop'))
    )
    op.create_index(op.f('ix_followed_shop_seller_id'), 'followed_shop', ['seller_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_followed_shop_seller_id'), table_name='followed_shop')
    op.drop_table('followed_shop')
    op.drop_index(op.f('ix_favourite_product_id'), table_name='favourite')
    op.drop_table('favourite')

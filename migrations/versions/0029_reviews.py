"""Reviews of products bought, their photos and reports, and rating summaries

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 14:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def _summary_columns():
    return [
        sa.Column(name, sa.Integer(), nullable=False)
        for name in ('review_count', 'stars_sum', 'stars_1', 'stars_2', 'stars_3', 'stars_4', 'stars_5')
    ]


def upgrade():
    op.create_table('product_rating',
    sa.Column('product_id', sa.Integer(), nullable=False),
    *_summary_columns(),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_rating_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_product_rating'))
    )
    op.create_table('seller_rating',
    sa.Column('seller_id', sa.Integer(), nullable=False),
    *_summary_columns(),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_seller_rating_seller_id_seller'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seller_id', name=op.f('pk_seller_rating'))
    )
    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seller_answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.Column('hidden_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('stars BETWEEN 1 AND 5', name=op.f('ck_review_stars_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['user.id'], name=op.f('fk_review_customer_id_user')),
    sa.ForeignKeyConstraint(['hidden_by'], ['user.id'], name=op.f('fk_review_hidden_by_user')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_review_order_line_id_order_line'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_review_product_id_product'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['seller.id'], name=op.f('fk_review_seller_id_seller'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review')),
    sa.UniqueConstraint('order_line_id', name=op.f('uq_review_order_line_id'))
    )
    op.create_index(op.f('ix_review_customer_id'), 'review', ['customer_id'], unique=False)
    op.create_index('ix_review_product_created', 'review', ['product_id', 'created_at'], unique=False)
    op.create_index('ix_review_seller_created', 'review', ['seller_id', 'created_at'], unique=False)
    op.create_index('ix_review_reported', 'review', ['reported_at'], unique=False)
    op.create_table('review_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('small_key', sa.String(length=255), nullable=False),
    sa.Column('large_key', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_photo_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_photo')),
    sa.UniqueConstraint('review_id', 'position', name='review_photo_position')
    )
    op.create_index(op.f('ix_review_photo_review_id'), 'review_photo', ['review_id'], unique=False)
    op.create_table('review_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_report_review_id_review'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_review_report_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_report')),
    sa.UniqueConstraint('review_id', 'user_id', name='review_report_once')
    )
    op.create_index('ix_review_report_user_created', 'review_report', ['user_id', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_review_report_user_created', table_name='review_report')
    op.drop_table('review_report')
    op.drop_index(op.f('ix_review_photo_review_id'), table_name='review_photo')
    op.drop_table('review_photo')
    op.drop_index('ix_review_reported', table_name='review')
    op.drop_index('ix_review_seller_created', table_name='review')
    op.drop_index('ix_review_product_created', table_name='review')
    op.drop_index(op.f('ix_review_customer_id'), table_name='review')
    op.drop_table('review')
    op.drop_table('seller_rating')
    op.drop_table('product_rating')

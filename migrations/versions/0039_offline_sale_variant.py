"""The variant an offline sale line took its stock from, so deleting the record gives it back

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-05 16:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offline_sale_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_offline_sale_line_variant_id_product_variant'), 'product_variant', ['variant_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('offline_sale_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_offline_sale_line_variant_id_product_variant'), type_='foreignkey')
        batch_op.drop_column('variant_id')

"""Product variants: options and variants with their own price, stock, SKU and photo; the
variant on cart lines, order lines and back-in-stock requests

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 16:12:43.554081

"""
from alembic import op
import sqlalchemy as sa

from app.core.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('product_option',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.CheckConstraint('position >= 0 AND position < 3', name=op.f('ck_product_option_position_range')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_option_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_option')),
    sa.UniqueConstraint('product_id', 'name', name='uq_product_option_name'),
    sa.UniqueConstraint('product_id', 'position', name='uq_product_option_position')
    )
    with op.batch_alter_table('product_option', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_option_product_id'), ['product_id'], unique=False)

    op.create_table('product_variant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('value1', sa.String(length=40), nullable=False),
    sa.Column('value2', sa.String(length=40), server_default='', nullable=False),
    sa.Column('value3', sa.String(length=40), server_default='', nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=True),
    sa.Column('price_amount', sa.BigInteger(), nullable=False),
    sa.Column('sale_price_amount', sa.BigInteger(), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price_amount > 0', name=op.f('ck_product_variant_price_positive')),
    sa.CheckConstraint('sale_price_amount > 0', name=op.f('ck_product_variant_sale_price_positive')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_product_variant_stock_non_negative')),
    sa.ForeignKeyConstraint(['image_id'], ['product_image.id'], name=op.f('fk_product_variant_image_id_product_image'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_variant_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_variant')),
    sa.UniqueConstraint('product_id', 'value1', 'value2', 'value3', name='uq_product_variant_values')
    )
    with op.batch_alter_table('product_variant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_variant_product_id'), ['product_id'], unique=False)

    with op.batch_alter_table('cart_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('user_product'), type_='unique')
        batch_op.create_index(batch_op.f('ix_cart_line_variant_id'), ['variant_id'], unique=False)
        batch_op.create_index('uq_cart_line_user_product', ['user_id', 'product_id'], unique=True, postgresql_where=sa.text('variant_id IS NULL'), sqlite_where=sa.text('variant_id IS NULL'))
        batch_op.create_index('uq_cart_line_user_variant', ['user_id', 'variant_id'], unique=True, postgresql_where=sa.text('variant_id IS NOT NULL'), sqlite_where=sa.text('variant_id IS NOT NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_cart_line_variant_id_product_variant'), 'product_variant', ['variant_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('variant_label', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('sku', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_line_variant_id'), ['variant_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_line_variant_id_product_variant'), 'product_variant', ['variant_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('has_variants', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('stock_alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant_id', sa.Integer(), nullable=True))
        batch_op.drop_index('uq_stock_alert_waiting')
        batch_op.create_index('uq_stock_alert_waiting', ['user_id', 'product_id'], unique=True, postgresql_where=sa.text('notified_at IS NULL AND variant_id IS NULL'), sqlite_where=sa.text('notified_at IS NULL AND variant_id IS NULL'))
        batch_op.create_index('uq_stock_alert_waiting_variant', ['user_id', 'variant_id'], unique=True, postgresql_where=sa.text('notified_at IS NULL AND variant_id IS NOT NULL'), sqlite_where=sa.text('notified_at IS NULL AND variant_id IS NOT NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_stock_alert_variant_id_product_variant'), 'product_variant', ['variant_id'], ['id'], ondelete='CASCADE')



def downgrade():
    # One waiting request per user and product again: the oldest of a product's variants stays.
    op.execute(
        "DELETE FROM stock_alert WHERE notified_at IS NULL AND id NOT IN "
        "(SELECT MIN(id) FROM stock_alert WHERE notified_at IS NULL GROUP BY user_id, product_id)"
    )
    with op.batch_alter_table('stock_alert', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_stock_alert_variant_id_product_variant'), type_='foreignkey')
        batch_op.drop_index('uq_stock_alert_waiting_variant')
        batch_op.drop_index('uq_stock_alert_waiting')
        batch_op.create_index('uq_stock_alert_waiting', ['user_id', 'product_id'], unique=True, postgresql_where=sa.text('notified_at IS NULL'), sqlite_where=sa.text('notified_at IS NULL'))
        batch_op.drop_column('variant_id')

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('has_variants')

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_line_variant_id_product_variant'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_line_variant_id'))
        batch_op.drop_column('sku')
        batch_op.drop_column('variant_label')
        batch_op.drop_column('variant_id')

    # Lines of one product's several variants become one line (the smallest id's) again.
    op.execute(
        "DELETE FROM cart_line WHERE id NOT IN "
        "(SELECT MIN(id) FROM cart_line GROUP BY user_id, product_id)"
    )
    with op.batch_alter_table('cart_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cart_line_variant_id_product_variant'), type_='foreignkey')
        batch_op.drop_index('uq_cart_line_user_variant')
        batch_op.drop_index('uq_cart_line_user_product')
        batch_op.drop_index(batch_op.f('ix_cart_line_variant_id'))
        batch_op.create_unique_constraint(batch_op.f('user_product'), ['user_id', 'product_id'])
        batch_op.drop_column('variant_id')

    with op.batch_alter_table('product_variant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_variant_product_id'))

    op.drop_table('product_variant')
    with op.batch_alter_table('product_option', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_option_product_id'))

    op.drop_table('product_option')

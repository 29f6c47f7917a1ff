"""(reserved: filled by the change that needs it)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # A customer's cart as a whole: its version and the checkout that last emptied it.
    op.create_table('cart_state',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('checked_out_version', sa.BigInteger(), nullable=True),
    sa.Column('checkout_payment_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['checkout_payment_id'], ['payment.id'], name=op.f('fk_cart_state_checkout_payment_id_payment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_cart_state_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_cart_state'))
    )

    # Listing photos: one photo per place (position 0 is the one cover). Rows that share a place
    # (concurrent uploads before this revision) are first renumbered 0..n-1 in their order.
    image = sa.table(
        'product_image',
        sa.column('id', sa.Integer()),
        sa.column('product_id', sa.Integer()),
        sa.column('position', sa.Integer()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(image.c.id, image.c.product_id, image.c.position).order_by(
            image.c.product_id, image.c.position, image.c.id
        )
    ).all()
    previous, place = None, 0
    for image_id, product_id, position in rows:
        place = place + 1 if product_id == previous else 0
        previous = product_id
        if position != place:
            conn.execute(sa.update(image).where(image.c.id == image_id).values(position=place))
    with op.batch_alter_table('product_image', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            'uq_product_image_product_id_position', ['product_id', 'position']
        )

    # Product-page views count one visitor once per product and local day, across workers.
    op.create_table('product_view_visitor',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('visitor', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_view_visitor_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', 'product_id', 'visitor', name=op.f('pk_product_view_visitor'))
    )
    with op.batch_alter_table('product_view_visitor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_view_visitor_product_id'), ['product_id'], unique=False)


def downgrade():
    with op.batch_alter_table('product_view_visitor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_view_visitor_product_id'))
    op.drop_table('product_view_visitor')
    with op.batch_alter_table('product_image', schema=None) as batch_op:
        batch_op.drop_constraint('uq_product_image_product_id_position', type_='unique')
    op.drop_table('cart_state')

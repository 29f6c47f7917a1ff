"""Payment providers: the bank gateway (IPG) as a provider, its reference and masked card on the
payment, and the time a worker claimed the right to verify a payment with the gateway.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 04:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD_PROVIDERS = "provider IN ('stripe', 'cash')"
NEW_PROVIDERS = "provider IN ('stripe', 'ipg', 'cash')"


def _provider_check(table, condition):
    """Recreate the CHECK of ``table``'s provider column (the enum gained or lost a value)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f'ck_{table}_provider'), type_='check')
        batch_op.create_check_constraint(op.f(f'ck_{table}_provider'), condition)


def upgrade():
    _provider_check('payment', NEW_PROVIDERS)
    _provider_check('payment_event', NEW_PROVIDERS)
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gateway_ref_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('card_pan', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('verify_started_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('verify_started_at')
        batch_op.drop_column('card_pan')
        batch_op.drop_column('gateway_ref_id')
    # Bank-gateway rows cannot stay under the old CHECK: they go with the provider.
    op.execute("DELETE FROM payment_event WHERE provider = 'ipg'")
    _provider_check('payment_event', OLD_PROVIDERS)
    _provider_check('payment', OLD_PROVIDERS)

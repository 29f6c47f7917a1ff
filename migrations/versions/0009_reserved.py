"""(reserved for: order completion, commission and the seller ledger, Sheba, settlements; filled by the change that needs it)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 04:20:00

"""

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

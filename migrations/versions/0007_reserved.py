"""(reserved for: payment providers (bank gateway payments, provider on payment); filled by the change that needs it)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 04:20:00

"""

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

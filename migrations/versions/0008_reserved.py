"""(reserved for: shipping methods, vacation mode, order shipping details; filled by the change that needs it)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 04:20:00

"""

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

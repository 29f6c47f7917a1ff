"""(reserved for: problems reported on orders; filled by the change that needs it)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 04:20:00

"""

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

"""Sign up by mobile: an account's e-mail address and password are optional

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 13:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=True)


def downgrade():
    # Accounts made with a mobile number get a placeholder address and an unusable password.
    user = sa.table('user', sa.column('id', sa.Integer), sa.column('email', sa.String),
                    sa.column('password_hash', sa.String))
    op.execute(user.update().where(user.c.password_hash.is_(None)).values(password_hash='!'))
    op.execute(
        user.update().where(user.c.email.is_(None)).values(
            email=sa.literal('mobile-') + sa.cast(user.c.id, sa.String) + sa.literal('@no-email.invalid')
        )
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)

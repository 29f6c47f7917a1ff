"""Failed job runs, recorded by the job worker

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=120), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=False),
    sa.Column('retrying', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_failure'))
    )
    with op.batch_alter_table('job_failure', schema=None) as batch_op:
        batch_op.create_index('ix_job_failure_created', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('job_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_job_failure_created')
    op.drop_table('job_failure')

"""Listing photos made by the job worker: a photo's status (ready, processing, failed), the
original kept until its variants exist, the reason of a failure and the runs tried

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 07:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    # Every photo that exists has its variants: it is ready.
    with op.batch_alter_table("product_image", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "ready",
                    "processing",
                    "failed",
                    name="photostatus",
                    native_enum=False,
                    create_constraint=True,
                    length=20,
                ),
                server_default="ready",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("original_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("failure", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_product_image_original_key"), ["original_key"], unique=False
        )


def downgrade():
    with op.batch_alter_table("product_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_image_original_key"))
        batch_op.drop_constraint(batch_op.f("ck_product_image_photostatus"), type_="check")
        batch_op.drop_column("attempts")
        batch_op.drop_column("failure")
        batch_op.drop_column("original_key")
        batch_op.drop_column("status")

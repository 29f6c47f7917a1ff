"""Persian shop and category addresses, and the old addresses that lead to them

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 14:00:00

Every seller's slug is made again from its business name and every category's from its Persian
name, Persian letters kept (app.catalog.slugs); a changed slug is kept in slug_history, so the old
address redirects permanently. The downgrade puts the old slugs back.
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from app.catalog.slugs import MAX_LENGTH, is_valid_slug, slugify


# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_TABLES = (("seller", "display_name", "shop"), ("category", "name_fa", "category"))


def _free(name, fallback, used):
    base = slugify(name) or fallback
    if len(base) < 3:
        base = f"{fallback}-{base}"
    candidate, n = base, 2
    while not is_valid_slug(candidate) or candidate in used:
        candidate = f"{base[: MAX_LENGTH - 5].strip('-')}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def upgrade():
    history = op.create_table(
        "slug_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("old_slug", sa.String(length=80), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slug_history")),
        sa.UniqueConstraint("kind", "old_slug", name="uq_slug_history_kind_old"),
    )
    conn = op.get_bind()
    now = datetime.now(timezone.utc)
    for table, name_column, fallback in _TABLES:
        rows = conn.execute(
            sa.text(f"SELECT id, slug, {name_column} FROM {table} ORDER BY id")
        ).all()
        used = set()
        moves = []
        for id_, old, name in rows:
            new = _free(name or "", fallback, used)
            if new != old:
                moves.append((id_, old, new))
        # Two steps, so a new slug never meets an old one still in place.
        for id_, old, _new in moves:
            conn.execute(
                sa.text(f"UPDATE {table} SET slug = :slug WHERE id = :id"),
                {"slug": f"~{id_}", "id": id_},
            )
        for id_, old, new in moves:
            conn.execute(
                sa.text(f"UPDATE {table} SET slug = :slug WHERE id = :id"), {"slug": new, "id": id_}
            )
        if moves:
            # Search documents name the shop's address: index them again.
            conn.execute(sa.text("UPDATE product SET search_dirty = :dirty"), {"dirty": True})
            op.bulk_insert(
                history,
                [
                    {"kind": table, "old_slug": old, "object_id": id_, "created_at": now}
                    for id_, old, _new in moves
                ],
            )


def downgrade():
    conn = op.get_bind()
    for table, _name, _fallback in _TABLES:
        # The oldest address each row had (the one before this revision, for rows it changed).
        rows = conn.execute(
            sa.text(
                "SELECT object_id, old_slug FROM slug_history WHERE kind = :kind ORDER BY id DESC"
            ),
            {"kind": table},
        ).all()
        first = dict(rows)
        for id_ in first:
            conn.execute(
                sa.text(f"UPDATE {table} SET slug = :slug WHERE id = :id"),
                {"slug": f"~{id_}", "id": id_},
            )
        for id_, old in first.items():
            conn.execute(
                sa.text(f"UPDATE {table} SET slug = :slug WHERE id = :id"), {"slug": old, "id": id_}
            )
    op.drop_table("slug_history")

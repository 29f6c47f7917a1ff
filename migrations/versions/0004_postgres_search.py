"""PostgreSQL full-text search documents

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 03:30:00

On PostgreSQL: the pg_trgm extension (creating it needs a database owner, which is why it is
here rather than left to the first search), and the tables of the PostgreSQL search backend
(app/search/pg_backend.py, SEARCH_BACKEND=postgres) in their own schema ``search``, empty:
``flask search reindex`` fills them. The schema is outside the application's models — the
backend owns it and rebuilds its tables by swapping in new ones — so the models' comparison
with the migrated database (which looks at the default schema) does not see it. The statements
are a frozen copy of ``schema_ddl("search")``; tests/search/test_pg_backend.py checks that both
build the same tables. On SQLite: nothing (the backend needs PostgreSQL).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE SCHEMA IF NOT EXISTS search",
    """CREATE TABLE IF NOT EXISTS search.document (
        id bigint NOT NULL,
        stamp text NOT NULL,
        leaf bigint,
        category_ids bigint[] NOT NULL DEFAULT '{}',
        county text NOT NULL DEFAULT '',
        sector text NOT NULL DEFAULT '',
        price bigint NOT NULL DEFAULT 0,
        created_at timestamp with time zone NOT NULL,
        in_stock boolean NOT NULL DEFAULT true,
        title text NOT NULL DEFAULT '',
        description text NOT NULL DEFAULT '',
        category_path text NOT NULL DEFAULT '',
        seller_name text NOT NULL DEFAULT '',
        terms tsvector NOT NULL,
        CONSTRAINT document_pkey PRIMARY KEY (id)
    ) WITH (toast_tuple_target = 128)""",
    """ALTER TABLE search.document
        ALTER COLUMN category_ids SET STORAGE PLAIN,
        ALTER COLUMN county SET STORAGE PLAIN,
        ALTER COLUMN sector SET STORAGE PLAIN,
        ALTER COLUMN stamp SET STORAGE PLAIN""",
    """CREATE TABLE IF NOT EXISTS search.term (
        term text NOT NULL,
        df integer NOT NULL DEFAULT 1,
        CONSTRAINT term_pkey PRIMARY KEY (term)
    )""",
    "CREATE INDEX IF NOT EXISTS document_terms_idx ON search.document USING gin (terms)",
    "CREATE INDEX IF NOT EXISTS document_category_idx ON search.document USING gin (category_ids)",
    "CREATE INDEX IF NOT EXISTS document_created_idx ON search.document (created_at DESC, id)",
    "CREATE INDEX IF NOT EXISTS term_trgm_idx ON search.term USING gin (term gin_trgm_ops)",
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # The extension stays: other code may use it, and dropping it needs the owner.
    op.execute("DROP SCHEMA IF EXISTS search CASCADE")

"""The backend's tables: the statements that create them and the columns a document fills.

The tables live in a schema of their own (``search`` by default); see
:mod:`app.search.postgres` for what each holds and why the rows are kept narrow.
"""

from __future__ import annotations

_COLUMNS = (
    "id",
    "stamp",
    "leaf",
    "category_ids",
    "county",
    "sector",
    "price",
    "created_at",
    "in_stock",
    "title",
    "description",
    "category_path",
    "seller_name",
    "terms",
)


def schema_ddl(schema: str, suffix: str = "", indexes: bool = True) -> list[str]:
    """The statements that create the backend's tables (named ``document{suffix}`` and
    ``term{suffix}``) and, with ``indexes``, their indexes. Migration 0004 holds a frozen copy
    of the statements for ``suffix=""``; a test checks that both build the same tables."""
    s, d, t = schema, f"document{suffix}", f"term{suffix}"
    out = [
        f"""CREATE TABLE {s}.{d} (
            id bigint NOT NULL,
            stamp text NOT NULL,
            leaf bigint,
            category_ids bigint[] NOT NULL DEFAULT '{{}}',
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
            CONSTRAINT {d}_pkey PRIMARY KEY (id)
        ) WITH (toast_tuple_target = 128)""",
        # the small columns read for every match (filters, facets, sorting) stay in the row
        f"""ALTER TABLE {s}.{d}
            ALTER COLUMN category_ids SET STORAGE PLAIN,
            ALTER COLUMN county SET STORAGE PLAIN,
            ALTER COLUMN sector SET STORAGE PLAIN,
            ALTER COLUMN stamp SET STORAGE PLAIN""",
        f"""CREATE TABLE {s}.{t} (
            term text NOT NULL,
            df integer NOT NULL DEFAULT 1,
            CONSTRAINT {t}_pkey PRIMARY KEY (term)
        )""",
    ]
    if indexes:
        out += index_ddl(schema, suffix)
    return out


def index_ddl(schema: str, suffix: str = "") -> list[str]:
    """The secondary indexes of the tables (built after a bulk load, which is faster)."""
    s, d, t = schema, f"document{suffix}", f"term{suffix}"
    return [
        f"CREATE INDEX {d}_terms_idx ON {s}.{d} USING gin (terms)",
        f"CREATE INDEX {d}_category_idx ON {s}.{d} USING gin (category_ids)",
        f"CREATE INDEX {d}_created_idx ON {s}.{d} (created_at DESC, id)",
        f"CREATE INDEX {t}_trgm_idx ON {s}.{t} USING gin (term gin_trgm_ops)",
    ]


_INDEX_NAMES = ("terms_idx", "category_idx", "created_idx")

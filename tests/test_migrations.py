"""The migrations build exactly the schema the models declare, on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import create_app
from app.core.extensions import db
from tests.conftest import DATABASE_URL, settings


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """Alembic's env.py loads the logging setup of alembic.ini, which disables every logger that
    exists at that moment; put things back so later tests still see their log records."""
    manager = logging.Logger.manager
    root = logging.getLogger()
    saved = {
        name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
        for name, lg in manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    root_state = (root.level, list(root.handlers))
    yield
    for name, lg in manager.loggerDict.items():
        if not isinstance(lg, logging.Logger):
            continue
        if name in saved:
            lg.disabled, lg.level, lg.handlers[:], lg.propagate = saved[name]
        else:
            lg.disabled = False
    root.setLevel(root_state[0])
    root.handlers[:] = root_state[1]


@pytest.fixture
def fresh_databases(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two new, empty databases of the kind the suite runs on; dropped afterwards."""
    if DATABASE_URL.startswith("sqlite"):
        yield (
            f"sqlite:///{tmp_path / 'migrated.sqlite3'}",
            f"sqlite:///{tmp_path / 'created.sqlite3'}",
        )
        return
    server = sa.engine.make_url(DATABASE_URL)
    names = [f"bazarche_mig_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield tuple(server.set(database=n).render_as_string(hide_password=False) for n in names)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def app_for(tmp_path: Path, url: str):  # type: ignore[no-untyped-def]
    # Not make_app: it would create the tables with create_all, which is what is under test.
    return create_app(settings(tmp_path, SQLALCHEMY_DATABASE_URI=url))


def schema_diff(conn: sa.Connection) -> list:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def check_constraints(conn: sa.Connection) -> dict[str, set[tuple[str, str]]]:
    """CHECK constraints per table, which autogenerate does not compare."""
    inspector = sa.inspect(conn)
    found = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        found[table] = {
            (c["name"], re.sub(r"[\s()]", "", c["sqltext"]).lower())
            for c in inspector.get_check_constraints(table)
        }
    return found


def test_migrations_build_the_schema_of_the_models(tmp_path, fresh_databases, keep_logging):
    migrated_url, created_url = fresh_databases
    created = app_for(tmp_path, created_url)
    with created.app_context():
        db.create_all()
        with db.engine.connect() as conn:
            expected_checks = check_constraints(conn)
        db.engine.dispose()

    migrated = app_for(tmp_path, migrated_url)
    with migrated.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert schema_diff(conn) == []
            assert check_constraints(conn) == expected_checks
            assert sa.inspect(conn).has_table("alembic_version")

        # And back down to nothing, and up again.
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == ["alembic_version"]
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert schema_diff(conn) == []
            assert check_constraints(conn) == expected_checks
        db.session.remove()
        db.engine.dispose()


def test_the_migrated_schema_keeps_its_constraints(tmp_path, fresh_databases, keep_logging):
    """A few rules the market depends on hold in a migrated database, not only in create_all's."""
    migrated_url, _ = fresh_databases
    app = app_for(tmp_path, migrated_url)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            inspector = sa.inspect(conn)
            product_checks = {c["name"] for c in inspector.get_check_constraints("product")}
            assert "ck_product_stock_non_negative" in product_checks
            assert "ck_product_price_non_negative" in product_checks
            user_uniques = {
                tuple(u["column_names"]) for u in inspector.get_unique_constraints("user")
            }
            assert ("email",) in user_uniques
        db.engine.dispose()

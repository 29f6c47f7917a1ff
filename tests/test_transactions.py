"""The one transaction helper: a unit of work commits, or rolls back and re-raises; a busy database
is retried only where asked; the domain listeners run on the app's session class only."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.models import CatalogVersion, Product
from app.core.db import transaction, transactional
from app.core.errors import ValidationFailed
from app.core.extensions import MarketSession, db
from tests import factories


def _add_user(name: str) -> None:
    """A new user in the open transaction (the factories commit; these tests must not)."""
    db.session.add(User(email=f"{abs(hash(name))}@example.com", name=name, password_hash="x"))
    db.session.flush()


def _names() -> list[str]:
    return list(db.session.scalars(sa.select(User.name).order_by(User.id)))


def test_a_unit_of_work_commits_what_it_changed(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        with transaction():
            _add_user("یکم")
        db.session.remove()  # a new session sees only what was committed
        assert _names() == ["یکم"]


def test_an_error_in_a_unit_of_work_rolls_it_back_and_is_raised(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        with pytest.raises(ValidationFailed), transaction():
            _add_user("دوم")
            raise ValidationFailed({"name": ["bad"]})
        assert not db.session().in_transaction()  # the session is clean for the caller
        db.session.remove()
        assert _names() == []


def _busy() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE …", {}, sqlite3.OperationalError("database is locked"))


def test_a_busy_database_is_retried_as_often_as_asked_then_raised(app) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    @transactional(retries=2, pause=0)
    def save() -> None:
        calls.append(1)
        _add_user(f"بار {len(calls)}")
        raise _busy()

    with app.app_context():
        with pytest.raises(sa.exc.OperationalError):
            save()
        assert len(calls) == 3  # the first run and two retries
        db.session.remove()
        assert _names() == []  # every attempt was rolled back


def test_a_retry_that_succeeds_commits_once(app) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    @transactional(retries=3, pause=0)
    def save() -> str:
        calls.append(1)
        _add_user(f"بار {len(calls)}")
        if len(calls) < 2:
            db.session.flush()
            raise _busy()
        return "saved"

    with app.app_context():
        assert save() == "saved"
        db.session.remove()
        assert _names() == ["بار 2"]


def test_other_errors_are_never_retried(app) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    @transactional(retries=5, pause=0)
    def save() -> None:
        calls.append(1)
        raise sa.exc.IntegrityError("INSERT …", {}, Exception("unique"))

    with app.app_context(), pytest.raises(sa.exc.IntegrityError):
        save()
    assert calls == [1]


def test_catalogue_listeners_run_on_the_apps_sessions_only(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        assert isinstance(db.session(), MarketSession)
        seller = factories.seller()
        factories.product(seller)
        db.session.commit()
        version = db.session.scalar(sa.select(sa.func.max(CatalogVersion.version)))

        # A plain SQLAlchemy session (a tool, a script) changes a product: the market's change
        # tracking does not run there, so the catalogue version and the dirty flag stay put.
        with Session(db.engine) as plain:
            product = plain.scalars(sa.select(Product)).one()
            product.search_dirty = False
            plain.commit()
            product.title = "عنوان دیگر"
            plain.commit()
            assert plain.scalar(sa.select(Product.search_dirty)) is False
            assert plain.scalar(sa.select(sa.func.max(CatalogVersion.version))) == version

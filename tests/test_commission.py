"""Staff set the commission per category as a percentage, stored in basis points; a category
without a rate takes the market default; bad input is refused beside the field."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog import commission
from app.catalog.models import Category
from app.core.errors import ValidationFailed
from app.core.extensions import db
from tests import factories
from tests.helpers import client_for, flashes


@pytest.mark.parametrize(
    ("typed", "bp"),
    [("7.5", 750), ("۷٫۵", 750), ("10", 1000), (" 0 ", 0), ("100", 10_000), ("12.25%", 1225),
     ("", None), ("١٢,٥", 1250)],
)  # fmt: skip
def test_percentages_become_basis_points(typed, bp):
    assert commission.parse_percent(typed) == bp


@pytest.mark.parametrize("typed", ["abc", "7.555", "-1", "100.01", "1e3", "7..5", "٪٪5"])
def test_bad_percentages_are_refused(typed):
    with pytest.raises(ValidationFailed):
        commission.parse_percent(typed)


def test_staff_set_a_rate_and_bad_input_changes_nothing(app):
    app.config["COMMISSION_RATE_BP"] = 1000
    cat = factories.category()
    staff = factories.user(Role.STAFF, email="staff@example.com")
    client = client_for(app, staff)
    client.set_cookie("locale", "en")
    page = client.get("/admin/commission").get_data(as_text=True)
    assert cat.name_en in page and "market default of 10 percent" in page

    response = client.post(
        f"/admin/commission/{cat.id}", data={"rate": "7.5"}, follow_redirects=True
    )
    assert flashes(response, "success") == [f"Commission of {cat.name_en} saved."]
    db.session.expire_all()
    assert db.session.get(Category, cat.id).commission_rate_bp == 750
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "category.commission_rate")
    )
    assert event.data == {"before": None, "after": 750} and event.actor_id == staff.id

    response = client.post(f"/admin/commission/{cat.id}", data={"rate": "150"})
    assert response.status_code == 400
    assert "between 0 and 100 percent" in response.get_data(as_text=True)
    assert 'value="150"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Category, cat.id).commission_rate_bp == 750

    client.post(f"/admin/commission/{cat.id}", data={"rate": ""})
    db.session.expire_all()
    assert db.session.get(Category, cat.id).commission_rate_bp is None
    assert client.post("/admin/commission/999999", data={"rate": "1"}).status_code == 404


def test_sellers_and_customers_cannot_set_rates(app):
    cat = factories.category()
    seller = factories.seller()
    client = client_for(app, seller.user)
    assert client.post(f"/admin/commission/{cat.id}", data={"rate": "0"}).status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Category, cat.id).commission_rate_bp is None

"""Sensitive seller details (county, phone, registration code, permit number) change only after the
password was typed in this session; each change is audited and mailed to the seller."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog import sellers as catalog
from app.catalog.models import Seller
from app.core.extensions import db
from app.notifications.outbox import sent_mail
from tests import factories
from tests.test_sessions import a_seller, profile_form

CHANGES = {
    "phone": "09351112233",
    "registration_code": "SB-NEW-1",
    "permit_number": "P-777",
}


def remembered_only(app, email: str):  # type: ignore[no-untyped-def]
    """A browser that logged in with "keep me logged in", then lost its session cookie (closed):
    the next request logs it in again from the remember cookie alone (not a fresh login)."""
    client = app.test_client()
    client.set_cookie("locale", "en")
    client.post(
        "/auth/login", data={"email": email, "password": factories.PASSWORD, "remember": "y"}
    )
    client.delete_cookie("session")
    return client


def detail_mails(app) -> list:  # type: ignore[no-untyped-def]
    return [m for m in sent_mail(app.config["MAIL_DIR"]) if "details were changed" in m.subject]


def test_a_remembered_session_must_confirm_the_password_before_sensitive_changes(app):
    seller = a_seller()
    before = (seller.county_id, seller.phone, seller.registration_code, seller.permit_number)
    other_county = factories.county()
    client = remembered_only(app, "shop@example.com")

    response = client.post(
        "/seller/profile", data=profile_form(seller, county_id=other_county.id, **CHANGES)
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/confirm?next=/seller/profile")
    db.session.expire_all()
    row = db.session.get(Seller, seller.id)
    assert (row.county_id, row.phone, row.registration_code, row.permit_number) == before
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0
    assert detail_mails(app) == []

    # A wrong password does not make the session fresh.
    response = client.post("/auth/confirm?next=/seller/profile", data={"password": "not it at all"})
    assert response.status_code == 400
    assert "The password is not correct." in response.get_data(as_text=True)
    # The right one does, and returns to the form.
    response = client.post(
        "/auth/confirm",
        data={"password": factories.PASSWORD, "next": "/seller/profile"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/seller/profile"

    response = client.post(
        "/seller/profile", data=profile_form(seller, county_id=other_county.id, **CHANGES)
    )
    assert response.status_code == 302 and response.headers["Location"] == "/seller/profile"
    db.session.expire_all()
    row = db.session.get(Seller, seller.id)
    assert (row.county_id, row.phone, row.registration_code, row.permit_number) == (
        other_county.id,
        *CHANGES.values(),
    )
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.target_type, event.target_id) == (
        "seller.details_change",
        "seller",
        seller.id,
    )
    assert event.actor_id == seller.user_id
    assert event.data["before"] == {
        "county_id": before[0],
        "phone": before[1],
        "registration_code": before[2],
        "permit_number": before[3],
    }
    assert event.data["after"]["county_id"] == other_county.id
    assert event.data["after"]["permit_number"] == "P-777"
    mails = detail_mails(app)
    assert len(mails) == 1 and mails[0].to == "shop@example.com"
    assert "09121234567" in mails[0].text and "09351112233" in mails[0].text
    assert other_county.name_en in mails[0].text


@pytest.mark.parametrize("field", ["phone", "registration_code", "permit_number", "county_id"])
def test_each_sensitive_field_alone_needs_a_fresh_login(app, field):
    seller = a_seller()
    value = factories.county().id if field == "county_id" else CHANGES[field]
    client = remembered_only(app, "shop@example.com")
    response = client.post("/seller/profile", data=profile_form(seller, **{field: value}))
    assert response.status_code == 302 and "/auth/confirm" in response.headers["Location"]
    db.session.expire_all()
    assert getattr(db.session.get(Seller, seller.id), field) != value


def test_other_profile_changes_need_no_fresh_login_and_no_notice(app):
    seller = a_seller()
    client = remembered_only(app, "shop@example.com")
    response = client.post("/seller/profile", data=profile_form(seller, bio="new story"))
    assert response.status_code == 302 and response.headers["Location"] == "/seller/profile"
    db.session.expire_all()
    assert db.session.get(Seller, seller.id).bio == "new story"
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0
    assert detail_mails(app) == []


def test_details_saved_before_input_was_normalised_are_not_a_change(app):
    """A phone and codes stored as once typed (Persian digits, spaces, lower case) come back
    from the form in their normalised form: that is the same value, not a sensitive change."""
    seller = a_seller()
    seller.phone = "۰۹۱۲ ۱۲۳ ۴۵۶۷"
    seller.registration_code = "sb-۱۴۰۳-۰۰۷"
    seller.permit_number = " p-۷۷۷ "
    db.session.commit()
    client = remembered_only(app, "shop@example.com")
    response = client.post("/seller/profile", data=profile_form(seller, bio="new story"))
    assert response.status_code == 302 and response.headers["Location"] == "/seller/profile"
    db.session.expire_all()
    row = db.session.get(Seller, seller.id)
    assert row.bio == "new story"
    assert (row.phone, row.registration_code, row.permit_number) == (
        "09121234567",
        "SB-1403-007",
        "P-777",
    )
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0
    assert detail_mails(app) == []


def test_a_fresh_login_saves_sensitive_changes_at_once(app, client):
    seller = a_seller()
    factories.login(client, "shop@example.com")
    response = client.post("/seller/profile", data=profile_form(seller, phone="09351112233"))
    assert response.status_code == 302 and response.headers["Location"] == "/seller/profile"
    db.session.expire_all()
    assert db.session.get(Seller, seller.id).phone == "09351112233"
    assert len(detail_mails(app)) == 1


def test_the_service_refuses_without_a_fresh_login(app):
    """The rule lives in the service: any caller that does not say the login is fresh is refused."""
    seller = a_seller()
    data = catalog.SellerProfile(**{**profile_form(seller, phone="09351112233")})  # type: ignore[arg-type]
    data.training_completed_on = seller.training_completed_on
    with pytest.raises(catalog.FreshLoginRequired) as caught:
        catalog.update_profile(seller, data)
    assert caught.value.fields == ["phone"]
    db.session.expire_all()
    assert db.session.get(Seller, seller.id).phone == "09121234567"


def test_the_password_page_needs_a_fresh_login(app):
    factories.user(Role.CUSTOMER, email="sara@example.com")
    client = remembered_only(app, "sara@example.com")
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/confirm?next=/auth/password")
    new = "three camels under a red tent"
    response = client.post(
        "/auth/password",
        data={"current_password": factories.PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 302 and "/auth/confirm" in response.headers["Location"]
    assert factories.login(app.test_client(), "sara@example.com").status_code == 302

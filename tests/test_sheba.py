"""The seller's Sheba number: typed as people type it, stored normalised, checked with the ISO
13616 mod-97 checksum; changing it needs a fresh login, is audited and mailed, masked."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.catalog.models import Seller
from app.catalog.sheba import is_valid_sheba, mask_sheba, normalise_sheba
from app.core.extensions import db
from tests import factories
from tests.test_seller_profile_security import detail_mails, remembered_only
from tests.test_sessions import a_seller, profile_form

GOOD = "IR062960000000100324200001"
OTHER = "IR820540102680020817909002"


@pytest.mark.parametrize(
    "typed",
    [GOOD, "ir06 2960 0000 0010 0324 2000 01", "IR۰۶۲۹۶۰۰۰۰۰۰۰۱۰۰۳۲۴۲۰۰۰۰۱",
     "062960000000100324200001", "IR06-2960-0000-0010-0324-2000-01", "\u200fIR062960000000100324200001"],
)  # fmt: skip
def test_typed_forms_normalise_to_one_valid_number(typed):
    assert normalise_sheba(typed) == GOOD and is_valid_sheba(normalise_sheba(typed))


@pytest.mark.parametrize(
    "typed",
    ["IR072960000000100324200001", "IR06296000000010032420000", "DE89370400440532013000",
     "IRAB2960000000100324200001", "IR0629600000001003242000011", "", "IR"],
)  # fmt: skip
def test_a_wrong_checksum_or_shape_is_refused(typed):
    assert not is_valid_sheba(normalise_sheba(typed))


def test_masking_keeps_the_country_check_digits_and_the_last_four():
    assert mask_sheba(GOOD) == "IR06 **** **** **** **** 0001"


def fresh_client(app, email):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, email)
    return client


def test_the_seller_sets_a_sheba_with_a_fresh_login_audited_and_mailed_masked(app):
    seller = a_seller()
    client = fresh_client(app, "shop@example.com")
    response = client.post(
        "/seller/profile", data=profile_form(seller, sheba="ir06 2960 0000 0010 0324 2000 01")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Seller, seller.id).sheba == GOOD
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "seller.details_change")
    )
    assert event.data == {"before": {"sheba": None}, "after": {"sheba": mask_sheba(GOOD)}}
    mails = detail_mails(app)
    assert len(mails) == 1 and "IR06 **** **** **** **** 0001" in mails[0].text
    assert GOOD not in mails[0].text

    # The same number typed differently is no change.
    client.post("/seller/profile", data=profile_form(seller, sheba=" " + GOOD.lower()))
    assert len(detail_mails(app)) == 1


def test_a_bad_sheba_is_refused_beside_the_field_and_changes_nothing(app):
    seller = a_seller()
    client = fresh_client(app, "shop@example.com")
    response = client.post(
        "/seller/profile", data=profile_form(seller, sheba="IR072960000000100324200001")
    )
    assert response.status_code in (200, 400)
    assert "Enter a valid Sheba number" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Seller, seller.id).sheba is None
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_a_remembered_session_must_confirm_the_password_to_change_the_sheba(app):
    seller = a_seller()
    seller.sheba = GOOD
    db.session.commit()
    client = remembered_only(app, "shop@example.com")
    response = client.post("/seller/profile", data=profile_form(seller, sheba=OTHER))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/confirm?next=/seller/profile")
    db.session.expire_all()
    assert db.session.get(Seller, seller.id).sheba == GOOD
    assert detail_mails(app) == []

"""Selling on Bazarche: the application, its review by staff, and the audit trail of each change."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from app.catalog.models import Product, Seller, SellerStatus, SellerStatusChange
from app.catalog.slugs import slugify
from app.core.extensions import db
from app.web.messages import ERROR_TEXT
from tests import factories
from tests.helpers import flashes

SHOP_NAME = "سوزن‌دوزی گل‌بی‌بی"


# --- helpers -------------------------------------------------------------------------------------


def english(client):  # type: ignore[no-untyped-def]
    """Messages are compared in English, whatever the Persian catalogue says."""
    client.set_cookie("locale", "en")
    return client


def message(code: str) -> str:
    """The English text the user sees for a service error code."""
    with force_locale("en"):
        return str(ERROR_TEXT[code])


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def field_errors(response, field: str) -> str:  # type: ignore[no-untyped-def]
    """The error text shown under one form field ('' when there is none)."""
    found = re.search(
        rf'<p class="error" id="{field}-error">(.*?)</p>', response.get_data(as_text=True), re.S
    )
    return unescape(found.group(1)) if found else ""


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count(Seller.id))),
        db.session.scalar(sa.select(sa.func.count(SellerStatusChange.id))),
        db.session.scalar(sa.select(sa.func.count(AuditEvent.id))),
    )


def fresh(row):  # type: ignore[no-untyped-def]
    """Re-read a row from the database (requests commit in their own session scope)."""
    db.session.expire_all()
    return db.session.get(type(row), row.id)


@pytest.fixture
def place():  # type: ignore[no-untyped-def]
    return factories.county(), factories.sector()


def application(place, **fields: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    county, sector = place
    data = {
        "display_name": SHOP_NAME,
        "slug": "",
        "bio": "رومیزی و کیف سوزن‌دوزی بلوچ، دوخت دست.",
        "county_id": str(county.id),
        "sector_id": str(sector.id),
        "phone": "09121234567",
        "registration_code": "SB-1402-0042",
        "training_completed_on": "2024-03-10",
        "training_provider": "مرکز آموزش فنی و حرفه‌ای زاهدان",
        "permit_number": "P-7781",
    }
    data.update(fields)
    return data


@pytest.fixture
def applicant(client):  # type: ignore[no-untyped-def]
    user = factories.with_mobile(factories.user(Role.CUSTOMER, name="بی‌بی گل"))
    english(client)
    factories.login(client, user.email)
    return user


@pytest.fixture
def staff(app):  # type: ignore[no-untyped-def]
    user = factories.user(Role.STAFF, name="Programme Reviewer")
    staff_client = english(app.test_client())
    factories.login(staff_client, user.email)
    return user, staff_client


def review(staff_client, seller: Seller, action: str, reason: str = ""):  # type: ignore[no-untyped-def]
    return staff_client.post(
        f"/admin/sellers/{seller.id}", data={"action": action, "reason": reason}
    )


# --- the application -----------------------------------------------------------------------------


def test_a_customer_applies_and_becomes_a_seller_waiting_for_review(client, applicant, place):
    assert client.get("/seller/apply").status_code == 200

    response = client.post("/seller/apply", data=application(place, slug="golbibi"))

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/seller/")
    seller = db.session.scalar(sa.select(Seller).where(Seller.user_id == applicant.id))
    assert seller is not None
    assert seller.status == SellerStatus.APPLIED
    assert seller.slug == "golbibi"
    assert seller.display_name == SHOP_NAME
    assert seller.phone == "09121234567"
    assert seller.registration_code == "SB-1402-0042"
    assert seller.training_completed_on == date(2024, 3, 10)
    assert seller.training_provider == "مرکز آموزش فنی و حرفه‌ای زاهدان"
    assert seller.permit_number == "P-7781"
    assert seller.county_id == place[0].id and seller.sector_id == place[1].id
    assert seller.approved_at is None
    assert fresh(applicant).role == Role.SELLER

    changes = db.session.scalars(
        sa.select(SellerStatusChange).where(SellerStatusChange.seller_id == seller.id)
    ).all()
    assert [(c.from_status, c.to_status, c.actor_id) for c in changes] == [
        (None, SellerStatus.APPLIED, applicant.id)
    ]

    dashboard = client.get("/seller/")
    assert dashboard.status_code == 200
    assert "waiting for review" in html_of(dashboard)


def test_an_empty_slug_is_made_from_the_persian_name(client, applicant, place):
    response = client.post("/seller/apply", data=application(place, slug=""))

    assert response.status_code == 302
    seller = db.session.scalar(sa.select(Seller).where(Seller.user_id == applicant.id))
    assert seller.slug == slugify(SHOP_NAME) == "سوزن-دوزی-گل-بی-بی"  # Persian letters kept


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("فروشگاه گل", "فروشگاه-گل"),
        ("كيك خانگي", "کیک-خانگی"),  # Arabic kaf and yeh: the Persian letters
        ("گل\u200cبی\u200cبی", "گل-بی-بی"),  # ZWNJ: a dash
        ("My Shop!", "my-shop"),
        ("شیرینی ۱۴۰۳", "شیرینی-1403"),
    ],
)
def test_a_typed_slug_is_kept_in_its_one_spelling(client, applicant, place, typed, stored):
    response = client.post("/seller/apply", data=application(place, slug=typed))

    assert response.status_code == 302
    assert db.session.scalar(sa.select(Seller.slug).where(Seller.user_id == applicant.id)) == stored


def test_a_generated_slug_avoids_one_already_taken(client, applicant, place):
    taken = factories.seller()
    taken.slug = slugify(SHOP_NAME)
    db.session.commit()

    response = client.post("/seller/apply", data=application(place, slug="", registration_code=""))

    assert response.status_code == 302
    seller = db.session.scalar(sa.select(Seller).where(Seller.user_id == applicant.id))
    assert seller.slug != taken.slug
    assert seller.slug.startswith(taken.slug)


@pytest.mark.parametrize(
    ("fields", "field", "expected"),
    [
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"display_name": "   "}, "display_name", "This field is required."),
        ({"phone": "12345"}, "phone", "mobile_invalid"),
        ({"phone": "0912123456"}, "phone", "mobile_invalid"),
        ({"phone": "۰۹۱۲۱۲۳۴۵۶"}, "phone", "mobile_invalid"),
        ({"phone": ""}, "phone", "This field is required."),
        ({"slug": "ab"}, "slug", "between 3 and 60 characters"),
        ({"slug": "-x-"}, "slug", "slug_invalid"),
        ({"slug": "admin"}, "slug", "slug_invalid"),
        ({"slug": "!!!!"}, "slug", "slug_invalid"),
        ({"slug": "x--"}, "slug", "slug_invalid"),
        ({"county_id": "0"}, "county_id", "This field is required."),
        (
            {"training_completed_on": (date.today() + timedelta(days=2)).isoformat()},
            "training_completed_on",
            "future_date",
        ),
        (
            {"training_completed_on": "1403/13/01"},
            "training_completed_on",
            "Enter a date like 1403/05/12",
        ),
    ],
)
def test_a_bad_application_is_refused_with_a_clear_message(
    client, applicant, place, fields, field, expected
):
    before = counts()

    response = client.post("/seller/apply", data=application(place, **fields))

    assert response.status_code == 400
    text = message(expected) if expected in ERROR_TEXT else expected
    assert text in field_errors(response, field)
    assert counts() == before
    assert fresh(applicant).role == Role.CUSTOMER


def test_a_taken_slug_or_registration_code_is_refused(client, applicant, place):
    other = factories.seller()
    before = counts()

    taken_slug = client.post("/seller/apply", data=application(place, slug=other.slug.upper()))
    taken_code = client.post(
        "/seller/apply", data=application(place, registration_code=other.registration_code)
    )

    assert taken_slug.status_code == 400
    assert message("slug_taken") in field_errors(taken_slug, "slug")
    assert taken_code.status_code == 400
    assert message("code_taken") in field_errors(taken_code, "registration_code")
    assert counts() == before
    assert fresh(applicant).role == Role.CUSTOMER


def test_a_refused_application_keeps_what_was_typed(client, applicant, place):
    response = client.post("/seller/apply", data=application(place, phone="123"))

    assert response.status_code == 400
    assert "SB-1402-0042" in html_of(response)
    assert SHOP_NAME in html_of(response)


def test_an_applicant_cannot_apply_twice(client, applicant, place):
    client.post("/seller/apply", data=application(place, slug="golbibi"))
    before = counts()

    again = client.post("/seller/apply", data=application(place, slug="golbibi-2"))

    assert again.status_code == 302
    assert counts() == before
    assert db.session.scalar(sa.select(Seller.slug).where(Seller.user_id == applicant.id)) == (
        "golbibi"
    )


def test_staff_cannot_apply_to_sell(app, staff, place):
    _, staff_client = staff
    before = counts()

    response = staff_client.post("/seller/apply", data=application(place, slug="staff-shop"))

    assert response.status_code == 403
    assert counts() == before


# --- the staff review ----------------------------------------------------------------------------


def _applied_seller(client, place) -> Seller:  # type: ignore[no-untyped-def]
    response = client.post("/seller/apply", data=application(place, slug="golbibi"))
    assert response.status_code == 302
    return db.session.scalar(sa.select(Seller).where(Seller.slug == "golbibi"))


def test_the_staff_queue_lists_the_application_and_shows_its_details(
    client, applicant, place, staff
):
    _, staff_client = staff
    seller = _applied_seller(client, place)
    factories.seller(status=SellerStatus.APPROVED, name="Already trading")

    queue = staff_client.get("/admin/sellers")
    assert queue.status_code == 200
    assert SHOP_NAME in html_of(queue)
    assert f"/admin/sellers/{seller.id}" in queue.get_data(as_text=True)
    assert "Already trading" not in html_of(queue)  # the queue shows applications first

    detail = staff_client.get(f"/admin/sellers/{seller.id}")
    assert detail.status_code == 200
    page = html_of(detail)
    for shown in ("golbibi", "مرکز آموزش فنی و حرفه‌ای زاهدان", applicant.email, "Approve"):
        assert shown in page
    assert "Reject" in page
    assert "Suspend" not in page


def test_approve_and_reject_cannot_be_mistaken_for_each_other(client, applicant, place, staff):
    _, staff_client = staff
    seller = _applied_seller(client, place)
    page = staff_client.get(f"/admin/sellers/{seller.id}").get_data(as_text=True)
    # Approve: a green button of its own form, which sends no reason.
    approve = re.search(r'<form method="post" class="decision-go">(.*?)</form>', page, re.S)
    assert approve and 'value="approve" class="primary"' in approve.group(1)
    assert "reason" not in approve.group(1)
    # Reject: red, behind a disclosure, with a required reason and a confirmation.
    stop = re.search(r'<details class="decision-stop">(.*?)</details>', page, re.S)
    assert stop, "the rejection sits behind a disclosure"
    assert '<summary class="button danger">Reject…</summary>' in stop.group(1)
    assert re.search(r"<textarea[^>]*required", stop.group(1))
    assert 'data-confirm="Reject this application?' in stop.group(1)
    assert 'value="reject" class="danger"' in stop.group(1)
    # A rejection sent back without its reason opens the disclosure again, the error shown.
    response = review(staff_client, seller, "reject", "")
    assert response.status_code == 400
    assert '<details class="decision-stop" open>' in response.get_data(as_text=True)


def test_approval_records_who_and_when(client, applicant, place, staff):
    reviewer, staff_client = staff
    seller = _applied_seller(client, place)

    response = review(staff_client, seller, "approve")

    assert response.status_code == 302
    seller = fresh(seller)
    assert seller.status == SellerStatus.APPROVED
    assert seller.approved_at is not None
    change = db.session.scalar(
        sa.select(SellerStatusChange).where(
            SellerStatusChange.seller_id == seller.id,
            SellerStatusChange.to_status == SellerStatus.APPROVED,
        )
    )
    assert change.from_status == SellerStatus.APPLIED
    assert change.actor_id == reviewer.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.target_type == "seller"))
    assert event.action == "seller.approved"
    assert event.actor_id == reviewer.id
    assert event.target_id == seller.id
    assert event.data == {"from": "applied", "to": "approved"}

    followed = staff_client.get(response.headers["Location"])
    assert "Approved" in html_of(followed)


def test_a_rejection_needs_a_reason(client, applicant, place, staff):
    _, staff_client = staff
    seller = _applied_seller(client, place)
    before = counts()

    for reason in ("", "   "):
        response = review(staff_client, seller, "reject", reason)
        assert response.status_code == 400
        assert message("reason_required") in field_errors(response, "reason")

    assert fresh(seller).status == SellerStatus.APPLIED
    assert counts() == before


def test_a_rejected_seller_sees_the_reason_and_can_apply_again(client, applicant, place, staff):
    reviewer, staff_client = staff
    seller = _applied_seller(client, place)
    reason = "Training certificate is missing the stamp."

    response = review(staff_client, seller, "reject", reason)

    assert response.status_code == 302
    seller = fresh(seller)
    assert seller.status == SellerStatus.REJECTED
    assert seller.status_reason == reason
    assert seller.approved_at is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "seller.rejected"))
    assert event.reason == reason and event.actor_id == reviewer.id

    dashboard = client.get("/seller/")
    assert dashboard.status_code == 200
    assert "not approved" in html_of(dashboard)
    assert reason in html_of(dashboard)
    form = client.get("/seller/apply")
    assert form.status_code == 200
    assert reason in html_of(form)

    again = client.post(
        "/seller/apply", data=application(place, slug="golbibi", training_provider="Corrected")
    )

    assert again.status_code == 302
    seller = fresh(seller)
    assert seller.status == SellerStatus.APPLIED
    assert seller.status_reason is None
    assert seller.training_provider == "Corrected"
    history = [
        (c.from_status, c.to_status)
        for c in db.session.scalars(
            sa.select(SellerStatusChange)
            .where(SellerStatusChange.seller_id == seller.id)
            .order_by(SellerStatusChange.id)
        )
    ]
    assert history == [
        (None, SellerStatus.APPLIED),
        (SellerStatus.APPLIED, SellerStatus.REJECTED),
        (SellerStatus.REJECTED, SellerStatus.APPLIED),
    ]
    # and staff see it in the queue again
    assert SHOP_NAME in html_of(staff_client.get("/admin/sellers"))


# --- suspension hides the shop at once -----------------------------------------------------------


def _visible(shopper, seller: Seller, product: Product) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """Where the product shows up for an anonymous shopper."""
    category = product.category.slug
    return {
        "product": shopper.get(f"/p/{product.id}").status_code == 200,
        "home": product.title in html_of(shopper.get("/")),
        "category": product.title in html_of(shopper.get(f"/c/{category}")),
        "search": product.title in html_of(shopper.get("/search", query_string={"q": "پته"})),
        "seller": product.title in html_of(shopper.get(f"/s/{seller.slug}")),
    }


def test_suspension_needs_a_reason_and_hides_the_products_at_once(app, staff):
    reviewer, staff_client = staff
    seller = factories.seller(status=SellerStatus.APPROVED)
    product = factories.product(seller, title="رومیزی پته کرمان")
    shopper = app.test_client()
    assert all(_visible(shopper, seller, product).values())

    refused = review(staff_client, seller, "suspend", "")
    assert refused.status_code == 400
    assert message("reason_required") in field_errors(refused, "reason")
    assert fresh(seller).status == SellerStatus.APPROVED
    assert all(_visible(shopper, seller, product).values())

    suspended = review(staff_client, seller, "suspend", "Complaints about late deliveries.")

    assert suspended.status_code == 302
    seller = fresh(seller)
    assert seller.status == SellerStatus.SUSPENDED
    assert seller.status_reason == "Complaints about late deliveries."
    assert not any(_visible(shopper, seller, product).values())
    assert shopper.get(f"/s/{seller.slug}").status_code == 404
    # the listing itself is untouched: it comes back with the seller
    assert {p.id for p in db.session.scalars(sa.select(Product))} == {product.id}

    reinstated = review(staff_client, seller, "reinstate")

    assert reinstated.status_code == 302
    seller = fresh(seller)
    assert seller.status == SellerStatus.APPROVED
    assert seller.status_reason is None
    assert all(_visible(shopper, seller, product).values())
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["seller.suspended", "seller.approved"]


def test_a_suspended_seller_sees_why(app, staff):
    _, staff_client = staff
    owner = factories.user(Role.SELLER)
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    review(staff_client, seller, "suspend", "Photos copied from another shop.")

    seller_client = english(app.test_client())
    factories.login(seller_client, owner.email)
    page = html_of(seller_client.get("/seller/"))

    assert "suspended" in page
    assert "Photos copied from another shop." in page


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (SellerStatus.APPLIED, "suspend"),
        (SellerStatus.APPLIED, "reinstate"),
        (SellerStatus.APPROVED, "approve"),
        (SellerStatus.APPROVED, "reject"),
        (SellerStatus.APPROVED, "reinstate"),
        (SellerStatus.SUSPENDED, "suspend"),
        (SellerStatus.SUSPENDED, "approve"),
        (SellerStatus.SUSPENDED, "reject"),
        (SellerStatus.REJECTED, "reject"),
        (SellerStatus.REJECTED, "suspend"),
        (SellerStatus.REJECTED, "reinstate"),
    ],
)
def test_an_impossible_change_is_refused_without_changing_anything(app, staff, status, action):
    _, staff_client = staff
    seller = factories.seller(status=status)
    before = counts()

    response = review(staff_client, seller, action, "Because.")

    assert response.status_code in (302, 400)
    assert fresh(seller).status == status
    assert counts() == before
    if response.status_code == 302:
        followed = staff_client.get(response.headers["Location"])
        assert "not possible" in " ".join(flashes(followed))


@pytest.mark.parametrize("action", ["", "delete", "APPROVE", "approved"])
def test_an_unknown_action_is_a_bad_request(app, staff, action):
    _, staff_client = staff
    seller = factories.seller(status=SellerStatus.APPLIED)
    before = counts()

    response = review(staff_client, seller, action, "x")

    assert response.status_code == 400
    assert fresh(seller).status == SellerStatus.APPLIED
    assert counts() == before


def test_reviewing_a_missing_seller_is_not_found(app, staff):
    _, staff_client = staff
    assert staff_client.get("/admin/sellers/999999").status_code == 404
    assert review(staff_client, Seller(id=999999), "approve").status_code == 404


def test_the_history_table_shows_who_when_and_why(client, applicant, place, staff):
    reviewer, staff_client = staff
    seller = _applied_seller(client, place)
    review(staff_client, seller, "reject", "Permit number does not match.")
    client.post("/seller/apply", data=application(place, slug="golbibi"))
    review(staff_client, seller, "approve")
    review(staff_client, seller, "suspend", "Sold items not made at home.")

    page = staff_client.get(f"/admin/sellers/{seller.id}").get_data(as_text=True)

    history = page.split('id="hist-h"', 1)[1]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", history)
    assert len(rows) == 5
    whens, moves, actors, reasons = (list(map(unescape, col)) for col in zip(*rows, strict=True))
    assert all(re.search(r"\d", when) for when in whens)
    assert reasons.count("Permit number does not match.") == 1
    assert reasons.count("Sold items not made at home.") == 1
    assert actors.count(reviewer.name) == 3
    assert actors.count(applicant.name) == 2
    assert any("Suspended" in m for m in moves)
    assert any("Not approved" in m for m in moves)


def test_the_staff_pages_are_closed_to_sellers_and_customers(client, app):
    seller = factories.seller(status=SellerStatus.APPLIED)
    for role in (Role.CUSTOMER, Role.SELLER):
        user = factories.user(role)
        visitor = app.test_client()
        factories.login(visitor, user.email)
        assert visitor.get("/admin/sellers").status_code == 403
        assert visitor.get(f"/admin/sellers/{seller.id}").status_code == 403
        assert review(visitor, seller, "approve").status_code == 403
    assert fresh(seller).status == SellerStatus.APPLIED
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 3


def test_the_training_date_may_be_typed_in_the_jalali_calendar(client, app):
    from datetime import date

    from app.catalog.models import Seller

    customer = factories.with_mobile(factories.user())
    factories.login(client, customer.email)
    county, sector = factories.county(), factories.sector()
    response = client.post(
        "/seller/apply",
        data={
            "display_name": "کارگاه سفال",
            "slug": "",
            "county_id": county.id,
            "sector_id": sector.id,
            "phone": "09151234567",
            "training_completed_on": "۱۴۰۳/۰۵/۱۲",
        },
    )
    assert response.status_code == 302
    seller = db.session.scalar(sa.select(Seller).where(Seller.user_id == customer.id))
    assert seller.training_completed_on == date(2024, 8, 2)


# --- what applicants type: Persian digits, codes, and a logo kept across a refused try ---------


def png_logo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 60, 40)).save(out, "PNG")
    return out.getvalue()


def hidden_value(response, name: str) -> str:  # type: ignore[no-untyped-def]
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', response.get_data(as_text=True))
    if found is None:
        found = re.search(rf'value="([^"]*)"[^>]*name="{name}"', response.get_data(as_text=True))
    return unescape(found.group(1)) if found else ""


@pytest.mark.parametrize(
    "typed", ["۰۹۱۲۱۲۳۴۵۶۷", "٠٩١٢١٢٣٤٥٦٧", "۰۹۱۲ ۱۲۳ ۴۵۶۷", "+98 912 123 4567", "9121234567"]
)
def test_a_mobile_number_in_persian_digits_is_accepted_and_stored_in_one_form(
    client, applicant, place, typed
):
    response = client.post("/seller/apply", data=application(place, phone=typed))

    assert response.status_code == 302, field_errors(response, "phone")
    seller = db.session.scalar(sa.select(Seller).where(Seller.user_id == applicant.id))
    assert seller.phone == "09121234567"


def test_the_mobile_number_error_example_is_in_persian_digits_in_persian(client, applicant, place):
    client.set_cookie("locale", "fa")
    response = client.post("/seller/apply", data=application(place, phone="۱۲۳۴۵"))

    assert response.status_code == 400
    error = field_errors(response, "phone")
    assert "۰۹۱۲۱۲۳۴۵۶۷" in error
    assert not re.search(r"[0-9]", error), error


def test_codes_typed_in_persian_digits_are_stored_in_one_form(client, applicant, place):
    response = client.post(
        "/seller/apply",
        data=application(
            place,
            registration_code="  sb-۱۴۰۳-۰۰۴۲ ",
            permit_number=" p-٧٧٨١",
        ),
    )

    assert response.status_code == 302
    seller = db.session.scalar(sa.select(Seller).where(Seller.user_id == applicant.id))
    assert seller.registration_code == "SB-1403-0042"
    assert seller.permit_number == "P-7781"


def test_a_registration_code_taken_in_latin_digits_is_taken_in_persian_digits(
    client, applicant, place
):
    other = factories.seller()
    other.registration_code = "SB-1403-0099"
    db.session.commit()
    before = counts()

    response = client.post(
        "/seller/apply", data=application(place, registration_code="sb-۱۴۰۳-۰۰۹۹")
    )

    assert response.status_code == 400
    assert message("code_taken") in field_errors(response, "registration_code")
    assert counts() == before


def test_the_chosen_logo_is_kept_when_the_application_comes_back_with_an_error(
    client, applicant, place
):
    from app.media.store import storage

    refused = client.post(
        "/seller/apply",
        data=application(place, slug="ab", logo=(io.BytesIO(png_logo()), "logo.png")),
        content_type="multipart/form-data",
    )

    assert refused.status_code == 400
    token = hidden_value(refused, "logo_token")
    assert token, "the form carries the stored logo to the next try"
    assert "The logo you chose is kept" in html_of(refused)
    assert db.session.scalar(sa.select(Seller).where(Seller.user_id == applicant.id)) is None

    # The applicant fixes the address and sends again, without choosing the file again.
    sent = client.post(
        "/seller/apply",
        data=application(place, slug="golbibi", logo_token=token),
        content_type="multipart/form-data",
    )

    assert sent.status_code == 302
    seller = db.session.scalar(sa.select(Seller).where(Seller.user_id == applicant.id))
    assert seller.logo_key and storage().exists(seller.logo_key)


@pytest.mark.parametrize("kind", ["forged", "another account", "garbage"])
def test_a_logo_reference_from_another_account_or_forged_is_ignored(
    client, applicant, place, app, kind
):
    from itsdangerous import URLSafeTimedSerializer

    from app.sellers.routes import _logo_token

    other = factories.seller()
    other.logo_key = "ab/cd/" + "0" * 64 + ".webp"
    db.session.commit()
    if kind == "forged":
        token = URLSafeTimedSerializer("not the secret", salt="seller-logo").dumps(
            {"u": applicant.id, "k": other.logo_key}
        )
    elif kind == "another account":
        with app.test_request_context():
            token = _logo_token(other.logo_key, other.user_id)
    else:
        token = "garbage"

    response = client.post("/seller/apply", data=application(place, slug="", logo_token=token))

    assert response.status_code == 302
    seller = db.session.scalar(sa.select(Seller).where(Seller.user_id == applicant.id))
    assert seller.logo_key is None


def test_the_ministry_csv_writes_every_registration_code_in_one_form(app, staff):
    import csv

    _, staff_client = staff
    legacy = factories.seller()  # saved before codes were normalised on input
    legacy.registration_code = "sb-۱۴۰۳-۰۰۷"
    db.session.commit()

    response = staff_client.get("/admin/sales/ministry.csv")

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    codes = [row["registration_code"] for row in rows]
    assert "SB-1403-007" in codes
    assert not any(re.search(r"[^\x00-\x7f]", code) for code in codes), codes


# --- the applicant is told -----------------------------------------------------------------------


def test_the_applicant_is_told_of_each_step_in_their_language_with_the_reason(
    app, client, applicant, place, staff
):
    from app.notifications.outbox import sent_mail

    _, staff_client = staff
    applicant.locale = "en"
    db.session.commit()

    def last_mail():  # type: ignore[no-untyped-def]
        mails = [m for m in sent_mail(app.config["MAIL_DIR"]) if m.to == applicant.email]
        return mails[0], len(mails)

    seller = _applied_seller(client, place)
    received, count = last_mail()
    assert count == 1 and received.subject == "We received your application to sell on Bazarche"
    from app.notifications.sms_gateway import written_sms

    [text] = written_sms(app.config["SMS_DIR"])  # and a text to the verified mobile
    assert text.to == applicant.mobile and "We received your application" in text.text

    reason = "Training certificate is missing the stamp."
    review(staff_client, seller, "reject", reason)
    rejected, count = last_mail()
    assert count == 2 and rejected.subject.endswith("was not approved")
    assert f"Reason: {reason}" in rejected.text and "http://localhost/seller/apply" in rejected.text

    review(staff_client, seller, "approve")
    approved, count = last_mail()
    assert count == 3 and approved.subject == "Your shop on Bazarche is approved"
    approved_text = written_sms(app.config["SMS_DIR"])[0]
    assert (
        "Your shop on Bazarche is approved" in approved_text.text
        and "/seller/" in approved_text.text
    )
    assert "Reason:" not in approved.text and "http://localhost/seller/" in approved.text

    review(staff_client, seller, "suspend", "Photos copied from another shop.")
    suspended, count = last_mail()
    assert count == 4 and suspended.subject == "Your shop on Bazarche is suspended"
    assert "Reason: Photos copied from another shop." in suspended.text

    review(staff_client, seller, "reinstate")
    reinstated, count = last_mail()
    assert count == 5 and reinstated.subject == "Your shop on Bazarche is open again"

    applicant.locale = "fa"
    db.session.commit()
    review(staff_client, seller, "suspend", "عکس‌ها از فروشگاه دیگری است.")
    persian, count = last_mail()
    assert count == 6 and "تعلیق" in persian.subject
    assert "عکس‌ها از فروشگاه دیگری است." in persian.text


def test_a_refused_review_tells_no_one(app, client, applicant, place, staff):
    from app.notifications.outbox import sent_mail

    _, staff_client = staff
    seller = _applied_seller(client, place)
    before = len(sent_mail(app.config["MAIL_DIR"]))
    assert review(staff_client, seller, "reject", "").status_code == 400
    review(staff_client, seller, "suspend", "no")  # an applicant cannot be suspended
    assert fresh(seller).status == SellerStatus.APPLIED
    assert len(sent_mail(app.config["MAIL_DIR"])) == before


def test_an_applicant_verifies_their_mobile_number_first(app, client, place):
    from app.notifications.sms_gateway import written_sms

    user = factories.user(Role.CUSTOMER, name="بی‌بی گل")
    factories.login(english(client), user.email)
    page = client.get("/seller/apply")
    assert 'href="/auth/account/mobile?next=/seller/apply"' in html_of(page)
    assert 'name="display_name"' not in html_of(page)
    refused = client.post("/seller/apply", data=application(place, slug="golbibi"))
    assert refused.status_code == 400 and "First verify your mobile number" in html_of(refused)
    assert db.session.scalar(sa.select(sa.func.count(Seller.id))) == 0

    asked = client.post(
        "/auth/account/mobile?next=/seller/apply",
        data={"mobile": "09151234567", "next": "/seller/apply"},
    )
    assert asked.status_code == 302
    code = re.search(r"\d{6}", written_sms(app.config["SMS_DIR"])[0].text).group(0)
    done = client.post(asked.headers["Location"], data={"code": code, "next": "/seller/apply"})
    assert done.status_code == 302 and done.headers["Location"] == "/seller/apply"
    form = html_of(client.get("/seller/apply"))
    assert 'name="display_name"' in form and 'value="09151234567"' in form  # the shop's phone
    assert client.post("/seller/apply", data=application(place, slug="golbibi")).status_code == 302

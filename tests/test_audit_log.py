"""The audit log: every staff action writes a row in its own transaction; the staff page lists
them newest first, filtered, linked and readable; the CSV holds the same rows."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape

import jdatetime
import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit import log as audit
from app.audit.models import AuditEvent
from app.catalog.models import ProductStatus, SellerStatus
from app.core.extensions import db
from app.core.formatting import format_date
from app.core.timeutil import utcnow
from app.program.calendar import tehran_today
from app.program.sales_models import OfflineSale
from tests import factories

BOM = "\ufeff"


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def rows_of(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The cells of the audit table, row by row (tags stripped)."""
    html = response.get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [
        [
            unescape(re.sub(r"<[^>]+>", " ", cell)).strip()
            for cell in re.findall(r"<td>(.*?)</td>", tr, re.S)
        ]
        for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def csv_rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    body = response.get_data()
    assert body.startswith(BOM.encode("utf-8"))
    return list(csv.DictReader(io.StringIO(body.decode("utf-8")[1:])))


def actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def staff(app):  # type: ignore[no-untyped-def]
    user = factories.user(Role.STAFF, name="Mahsa", email="mahsa@example.com")
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, user.email)
    return user, client


@pytest.fixture
def colleague(app):  # type: ignore[no-untyped-def]
    user = factories.user(Role.STAFF, name="Reza", email="reza@example.com")
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, user.email)
    return user, client


def review(client, seller, action: str, reason: str = ""):  # type: ignore[no-untyped-def]
    return client.post(f"/admin/sellers/{seller.id}", data={"action": action, "reason": reason})


def record_offline(client, seller):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/offline-sales/new",
        data={
            "seller_id": str(seller.id), "sold_on": date.today().isoformat(),
            "place": "بازارچه نوروزی", "line-0-product_id": "", "line-0-title": "سبد حصیری",
            "line-0-quantity": "1", "line-0-amount": "50000", "note": "",
        },
    )  # fmt: skip


@pytest.fixture
def history(staff, colleague):  # type: ignore[no-untyped-def]
    """Every kind of staff action, by two staff members."""
    mahsa, client = staff
    reza, other = colleague
    applicant = factories.seller(status=SellerStatus.APPLIED, name="سفال کلپورگان")
    refused = factories.seller(status=SellerStatus.APPLIED, name="حصیربافی هامون")
    review(client, applicant, "approve")
    review(client, refused, "reject", "کد ثبت با پروانه یکی نیست.")
    review(other, applicant, "suspend", "فروش کالای غیر خانگی")
    review(other, applicant, "reinstate")
    product = factories.product(applicant, title="کاسه سفالی")
    product.published_at = product.created_at
    db.session.commit()
    other.post(f"/admin/listings/{product.id}/hide", data={"reason": "عکس مبهم است"})
    # the seller fixes the listing and resubmits it; staff release it
    seller_client = client.application.test_client()
    factories.login(seller_client, applicant.user.email)
    seller_client.post(
        f"/seller/listings/{product.id}/edit",
        data={
            "title": "کاسه سفالی", "description": "", "category_id": product.category_id,
            "price_toman": "125000", "stock": "5", "status": "draft",
        },
    )  # fmt: skip
    client.post(f"/admin/listings/{product.id}/release", data={})
    record_offline(client, applicant)
    sale = db.session.scalar(sa.select(OfflineSale))
    client.post(f"/admin/offline-sales/{sale.id}/delete")
    return {
        "mahsa": mahsa, "reza": reza, "applicant": applicant, "refused": refused,
        "product": product, "sale_id": sale.id,
    }  # fmt: skip


def test_every_staff_action_writes_an_audit_row(history):
    assert actions() == [
        "seller.approved",
        "seller.rejected",
        "seller.suspended",
        "seller.approved",
        "listing.hide",
        "listing.resubmit",
        "listing.release",
        "offline_sale.create",
        "offline_sale.delete",
    ]
    rows = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
    assert rows[1].reason == "کد ثبت با پروانه یکی نیست."
    assert rows[3].data == {"from": "suspended", "to": "approved"}
    assert rows[4].actor_id == history["reza"].id
    assert rows[5].actor_id == history["applicant"].user_id  # the seller's own step
    assert rows[6].data["to"] == ProductStatus.PUBLISHED.value
    assert rows[8].target_id == history["sale_id"]


def test_a_refused_action_writes_no_row(staff):
    _, client = staff
    seller = factories.seller(status=SellerStatus.APPLIED)
    review(client, seller, "suspend", "x")  # not possible from "applied"
    review(client, seller, "reject", "")  # a rejection needs a reason
    product = factories.product(status=ProductStatus.HIDDEN_BY_STAFF)
    client.post(f"/admin/listings/{product.id}/hide", data={"reason": "again"})
    client.post(f"/admin/listings/{product.id}/release", data={})
    assert actions() == []


def test_the_page_lists_newest_first_with_readable_rows(staff, history):
    _, client = staff

    response = client.get("/admin/audit")

    assert response.status_code == 200
    rows = rows_of(response)
    assert len(rows) == 9
    assert rows[0][2] == "Offline sale deleted"
    assert rows[-1][2] == "Seller approved"
    assert [r[2] for r in rows].count("Listing hidden") == 1
    html = html_of(response)
    assert "کد ثبت با پروانه یکی نیست." in html
    assert "From: Suspended" in html and "To: Approved" in html
    assert "Amount: 50,000 toman" in html
    assert "Title: کاسه سفالی" in html
    seller_id = history["applicant"].id
    # an id in the data is shown by name, linked
    assert f'Seller: <a href="/admin/sellers/{seller_id}">سفال کلپورگان</a>' in html


def test_targets_are_linked_while_they_exist(staff, history):
    _, client = staff
    html = client.get("/admin/audit").get_data(as_text=True)
    product_id = history["product"].id
    assert f'href="/admin/listings/{product_id}"' in html
    assert f'href="/admin/sellers/{history["applicant"].id}"' in html
    assert f'href="/admin/sellers/{history["refused"].id}"' in html

    db.session.delete(db.session.get(type(history["product"]), product_id))
    db.session.commit()
    html = client.get("/admin/audit").get_data(as_text=True)
    assert f'href="/admin/listings/{product_id}"' not in html
    assert "Listing hidden" in html  # the row outlives the listing


def test_the_filters(staff, history):
    _, client = staff
    mahsa, reza = history["mahsa"], history["reza"]

    def shown(**args: str) -> list[str]:
        response = client.get("/admin/audit", query_string=args)
        assert response.status_code == 200, args
        return [row[2] for row in rows_of(response)]

    assert shown(actor=str(reza.id)) == ["Listing hidden", "Seller approved", "Seller suspended"]
    assert len(shown(actor=str(mahsa.id))) == 5
    assert shown(action="seller.rejected") == ["Seller not approved"]
    assert shown(target_type="product") == [
        "Listing released",
        "Listing resubmitted by the seller",
        "Listing hidden",
    ]
    assert shown(target_type="seller", target_id=str(history["refused"].id)) == [
        "Seller not approved"
    ]
    assert shown(actor=str(reza.id), action="seller.approved") == ["Seller approved"]
    # the filter drop-downs offer who acted and what was done
    html = html_of(client.get("/admin/audit"))
    assert "Reza (reza@example.com)" in html and "Offline sale recorded" in html
    # bad values are ignored or match nothing; never a server error
    for bad in (
        {"actor": "abc"},
        {"actor": "99999999999999999"},
        {"target_id": "-1"},
        {"target_id": "x" * 500},
        {"action": "<script>"},
        {"period": "bogus"},
        {"period": "custom", "start": "1405-13-40", "end": "x"},
        {"page": "99999"},
        {"target_id": "9" * 5000, "actor": "9" * 5000},
        {"period": "year", "y": "9" * 5000},
    ):
        assert client.get("/admin/audit", query_string=bad).status_code == 200, bad
    assert shown(action="no.such.action") == []
    assert "No actions match this filter." in html_of(
        client.get("/admin/audit", query_string={"action": "no.such.action"})
    )


def test_the_period_filter_defaults_to_all_time(staff, history):
    _, client = staff
    old = audit.record(history["mahsa"].id, "seller.approved", "seller", history["refused"].id)
    old.created_at = utcnow() - timedelta(days=800)
    db.session.commit()
    year = jdatetime.date.fromgregorian(date=tehran_today()).year
    old_year = jdatetime.date.fromgregorian(date=tehran_today() - timedelta(days=800)).year

    assert len(rows_of(client.get("/admin/audit"))) == 10
    this_year = client.get("/admin/audit", query_string={"period": "year", "y": str(year)})
    assert len(rows_of(this_year)) == 9
    long_ago = client.get("/admin/audit", query_string={"period": "year", "y": str(old_year)})
    assert len(rows_of(long_ago)) == 1
    start = (tehran_today() - timedelta(days=900)).isoformat()
    end = (tehran_today() - timedelta(days=700)).isoformat()
    custom = client.get(
        "/admin/audit", query_string={"period": "custom", "start": start, "end": end}
    )
    assert len(rows_of(custom)) == 1
    assert "All time" in html_of(client.get("/admin/audit"))


def test_dates_are_jalali_in_persian(app, history):
    client = app.test_client()  # Persian is the default language
    factories.login(client, history["mahsa"].email)

    html = html_of(client.get("/admin/audit"))

    assert format_date(utcnow(), "fa") in html
    assert "کد ثبت با پروانه یکی نیست." in html


def test_the_page_is_paginated(staff):
    mahsa, client = staff
    for n in range(55):
        audit.record(mahsa.id, "seller.approved", "seller", n + 1)
    db.session.commit()
    first = rows_of(client.get("/admin/audit"))
    second = rows_of(client.get("/admin/audit", query_string={"page": "2"}))
    assert len(first) == 50 and len(second) == 5


def test_the_csv_holds_the_filtered_rows(staff, history):
    _, client = staff

    everything = csv_rows(client.get("/admin/audit.csv"))
    assert len(everything) == 9
    assert everything[0]["action"] == "offline_sale.delete"  # newest first, as on the page
    rejected = csv_rows(client.get("/admin/audit.csv", query_string={"action": "seller.rejected"}))
    assert len(rejected) == 1
    assert rejected[0]["reason"] == "کد ثبت با پروانه یکی نیست."
    assert rejected[0]["actor"] == "Mahsa" and rejected[0]["actor_email"] == "mahsa@example.com"
    assert rejected[0]["target_id"] == str(history["refused"].id)
    assert rejected[0]["created_at_jalali"].startswith(
        str(jdatetime.date.fromgregorian(date=tehran_today()).year)
    )
    hidden = csv_rows(client.get("/admin/audit.csv", query_string={"action": "listing.hide"}))
    assert '"title": "کاسه سفالی"' in hidden[0]["data"]
    by_reza = csv_rows(
        client.get("/admin/audit.csv", query_string={"actor": str(history["reza"].id)})
    )
    assert len(by_reza) == 3
    page = client.get("/admin/audit", query_string={"action": "listing.hide"})
    assert "/admin/audit.csv?action=listing.hide" in page.get_data(as_text=True)


def test_the_audit_log_is_for_staff_only(app, history):
    for role in (Role.CUSTOMER, Role.SELLER):
        user = factories.user(role)
        client = app.test_client()
        factories.login(client, user.email)
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/audit.csv").status_code == 403
    assert app.test_client().get("/admin/audit").status_code == 302


def test_rows_of_other_staff_pages_read_plainly(staff):
    mahsa, client = staff
    county = factories.county()
    audit.record(
        mahsa.id,
        "quota.update",
        "quota",
        7,
        data={
            "county_id": county.id,
            "programme_year": 1405,
            "before": {"target_sellers": 10, "target_sales_amount": 5_000_000},
            "after": {"target_sellers": 12, "target_sales_amount": 6_000_000},
        },
    )
    audit.record(None, "orders.expire", "order", 3)  # a command's row: no person, no label
    db.session.commit()

    response = client.get("/admin/audit")

    html = html_of(response)
    assert "Quota changed" in html
    assert re.search(rf"County: (<a href=\"/admin/counties/{county.id}\">)?{county.name_en}", html)
    assert "After: Target sellers: 12; Target sales: 600,000 toman" in html
    assert "Programme year: 1405" in html
    assert "orders.expire" in html and "System" in html
    only_system = rows_of(client.get("/admin/audit", query_string={"actor": "system"}))
    assert [row[2] for row in only_system] == ["orders.expire"]

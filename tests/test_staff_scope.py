"""Staff with a scope: a county officer sees their county's sellers, listings, orders, off-line
sales, problems and reports, and nothing of another county (404, never a hint that it exists);
a support organisation's staff see the sellers it assists; the province's own pages are closed to
both (403). The route × role map of tests/test_access.py, with a scope axis."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.admin import OPEN_TO_SCOPED
from app.catalog import scope as scopes
from app.catalog.models import ListingConsent, ProductStatus
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.disputes.models import OrderProblem, ProblemKind, ProblemStatus
from app.program import offline
from app.program.offline import OfflineLineInput
from app.program.sales_models import OfflineSale
from tests import factories
from tests.test_access import client_as, sample_url
from tests.test_order_flow import place


@pytest.fixture
def two_counties(app):  # type: ignore[no-untyped-def]
    province_staff = factories.user(Role.STAFF, email="province@example.com")
    world = {"province": province_staff}
    customer = factories.user(email="scope-buyer@example.com")
    for key, slug in (("a", "zahedan"), ("b", "chabahar")):
        county = factories.county(slug)
        seller = factories.seller(county_row=county, name=f"کارگاه {slug}")
        seller.approved_at = utcnow()  # a beneficiary: the impact figures count from here
        product = factories.product(seller, title=f"سبد {slug}", status=ProductStatus.PUBLISHED)
        order = place(customer, (product, 1)).orders[0]
        sale = offline.record_offline_sale(
            seller, province_staff.id, sold_on=date(2026, 12, 1), place="نمایشگاه",
            lines=[OfflineLineInput(product.id, "", 1, 400_000)],
        )  # fmt: skip
        problem = OrderProblem(
            order_id=order.id, customer_id=customer.id, seller_id=seller.id,
            kind=ProblemKind.DAMAGED, description="شکسته رسید", status=ProblemStatus.ESCALATED,
        )  # fmt: skip
        db.session.add(problem)
        db.session.commit()
        world[key] = {
            "county": county, "seller": seller, "product": product, "order": order,
            "sale": sale, "problem": problem,
        }  # fmt: skip
    officer = factories.user(Role.STAFF, email="officer-a@example.com")
    scopes.set_scope(officer, county_slug="zahedan")
    helper = factories.user(Role.STAFF, email="ngo@example.com")
    scopes.set_scope(helper, organisation="مرکز آموزش چابهار")
    scopes.assign_organisation(world["b"]["seller"].id, "مرکز آموزش چابهار")
    world |= {"officer": officer, "helper": helper}
    return world


def _object_urls(side: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    s, p, o = side["seller"].id, side["product"].id, side["order"].id
    c, sale, problem = side["county"].id, side["sale"].id, side["problem"].id
    return [
        ("GET", f"/admin/sellers/{s}"),
        ("GET", f"/admin/sales/{s}"),
        ("GET", f"/admin/listings/{p}"),
        ("POST", f"/admin/listings/{p}/hide"),
        ("POST", f"/admin/listings/{p}/release"),
        ("GET", f"/admin/orders/{o}/invoice"),
        ("GET", f"/admin/counties/{c}"),
        ("GET", f"/admin/counties/{c}/sellers.csv"),
        ("GET", f"/admin/counties/{c}/monthly.csv"),
        ("GET", f"/admin/counties/{c}/categories.csv"),
        ("GET", f"/admin/problems/{problem}"),
        ("POST", f"/admin/offline-sales/{sale}/delete"),
        ("GET", f"/admin/sellers/{s}/booth"),
        ("GET", f"/admin/sellers/{s}/booth/worker.js"),
        ("POST", f"/admin/sellers/{s}/booth/entries"),
        ("GET", f"/admin/sellers/{s}/assist"),
        ("POST", f"/admin/sellers/{s}/assist/ask"),
        ("POST", f"/admin/sellers/{s}/assist/confirm"),
        ("GET", f"/admin/sellers/{s}/assist/listings/new"),
        ("GET", f"/admin/sellers/{s}/assist/listings/{p}/edit"),
        ("POST", f"/admin/sellers/{s}/assist/listings/{p}/quick"),
        ("POST", f"/admin/sellers/{s}/assist/photos/staged"),
    ]


def test_a_county_officer_gets_404_on_every_object_of_another_county(app, two_counties) -> None:  # type: ignore[no-untyped-def]
    officer = client_as(app, two_counties["officer"])
    for method, url in _object_urls(two_counties["b"]):
        assert officer.open(url, method=method).status_code == 404, url
    assert db.session.get(OfflineSale, two_counties["b"]["sale"].id) is not None
    # Their own county's objects open (the POSTs without a form are refused as bad requests).
    for method, url in _object_urls(two_counties["a"]):
        if method == "GET":
            # The assist forms need the seller's consent first: 403 (found, not allowed yet).
            wanted = 403 if "/assist/listings/" in url else 200
            assert officer.get(url).status_code == wanted, url


def test_a_support_organisation_sees_the_sellers_it_assists(app, two_counties) -> None:  # type: ignore[no-untyped-def]
    helper = client_as(app, two_counties["helper"])
    assert helper.get(f"/admin/sellers/{two_counties['b']['seller'].id}").status_code == 200
    assert helper.get(f"/admin/sellers/{two_counties['a']['seller'].id}").status_code == 404
    # Counties are not its business: a cohort is not a county.
    assert helper.get("/admin/counties").status_code == 403
    assert helper.get(f"/admin/counties/{two_counties['b']['county'].id}").status_code == 404


def test_lists_reports_and_exports_hold_the_scope_only(app, two_counties) -> None:  # type: ignore[no-untyped-def]
    a, b = two_counties["a"], two_counties["b"]
    for side in (a, b):  # sold out: both show on the early-warning lists
        side["product"].stock = 0
    db.session.commit()
    officer = client_as(app, two_counties["officer"])
    province = client_as(app, two_counties["province"])
    pages = [
        "/admin/sellers?status=all", "/admin/sellers.csv?status=all", "/admin/listings?tab=all",
        "/admin/listings.csv?tab=all", "/admin/sales?period=year&y=1405",
        "/admin/sales.csv?period=year&y=1405", "/admin/offline-sales", "/admin/offline-sales.csv",
        "/admin/problems", "/admin/warnings", "/admin/impact", "/admin/impact.csv?by=seller",
    ]  # fmt: skip
    for url in pages:
        own = officer.get(url)
        assert own.status_code == 200, url
        text = own.get_data(as_text=True)
        assert (
            "zahedan" in text or a["seller"].display_name in text or a["product"].title in text
        ), url
        assert b["seller"].display_name not in text and b["product"].title not in text, url
        everything = province.get(url).get_data(as_text=True)
        assert b["seller"].display_name in everything or b["product"].title in everything, url
    # The counties page takes the officer to their own county.
    to_own = officer.get("/admin/counties?period=year&y=1405")
    assert to_own.status_code == 302
    assert to_own.headers["Location"].startswith(f"/admin/counties/{a['county'].id}?")
    # A county filter naming another county finds nothing rather than that county's sellers.
    other = officer.get(f"/admin/sellers?status=all&county={b['county'].id}").get_data(as_text=True)
    assert b["seller"].display_name not in other
    dashboard = officer.get("/admin/").get_data(as_text=True)
    assert "/admin/settlements" not in dashboard and "/admin/payments" not in dashboard


def test_the_province_pages_are_closed_to_staff_with_a_scope(app, two_counties) -> None:  # type: ignore[no-untyped-def]
    officer, helper = two_counties["officer"], two_counties["helper"]
    for side in ("a", "b"):  # consent given: the assist forms open (403 without it)
        db.session.add(
            ListingConsent(
                seller_id=two_counties[side]["seller"].id,
                staff_id=two_counties["province"].id,
                method="sms_code",
                mobile="09121234567",
            )
        )
    db.session.commit()
    problems = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("admin."):
            continue
        url = sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for user in (officer, helper):
                status = client_as(app, user).open(url, method=method).status_code
                closed = rule.endpoint not in OPEN_TO_SCOPED
                if (
                    status >= 500
                    or (closed and status != 403)
                    or (not closed and status == 403 and rule.endpoint != "admin.counties_report")
                ):
                    problems.append(f"{method} {url} ({rule.endpoint}) as {user.email}: {status}")
    assert not problems, "\n".join(problems)


def test_scopes_are_checked_when_set(app) -> None:  # type: ignore[no-untyped-def]
    staff = factories.user(Role.STAFF, email="s@example.com")
    customer = factories.user(email="c@example.com")
    with pytest.raises(scopes.ValidationFailed):
        scopes.set_scope(customer, county_slug="zahedan")
    with pytest.raises(scopes.ValidationFailed):
        scopes.set_scope(staff, county_slug="no-such-county")
    with pytest.raises(scopes.ValidationFailed):
        scopes.set_scope(staff, county_slug="x", organisation="y")
    county = factories.county("zabol")
    assert scopes.set_scope(staff, county_slug="zabol").county_id == county.id
    assert scopes.of(staff).county_id == county.id
    assert scopes.set_scope(staff).is_province  # back to the province
    assert db.session.scalar(sa.select(sa.func.count()).select_from(scopes.StaffScope)) == 0

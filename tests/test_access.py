"""Who may reach what: every route of the app, every role; CSRF; no open redirects."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from app.accounts.models import Role, User
from app.catalog.models import ListingConsent
from app.core.extensions import db
from tests import factories

PUBLIC = "public"  # anyone, logged in or not
LOGIN = "login"  # any logged-in user
SELLER = "seller"  # users with the seller role
STAFF = "staff"  # programme staff
PROBE = "probe"  # anyone; its 503 is an answer (a part is degraded), not a server error

# Every endpoint of the app and who may use it. A new route fails test_every_route_obeys_its_
# access_class until it has a line here: decide who may use it, then add the line.
ACCESS: dict[str, str] = {
    "static": PUBLIC,
    # storefront
    "shop.home": PUBLIC,
    "shop.category": PUBLIC,
    "shop.county": PUBLIC,
    "shop.product": PUBLIC,
    "shop.seller": PUBLIC,
    "shop.search": PUBLIC,
    "shop.suggest": PUBLIC,
    "shop.media": PUBLIC,
    "shop.set_language": PUBLIC,
    "shop.robots": PUBLIC,
    "shop.sitemap_index": PUBLIC,
    "shop.sitemap_page": PUBLIC,
    "shop.site_page": PUBLIC,  # /about, /contact, /terms, /returns, /privacy, /programme
    # cart (a guest has one too), checkout and the customer's orders
    "shop.cart": PUBLIC,
    "shop.cart_add": PUBLIC,
    "shop.cart_update": PUBLIC,
    "shop.cart_accept_prices": PUBLIC,
    "shop.checkout": LOGIN,
    "shop.checkout_return": LOGIN,
    "shop.resume_checkout": LOGIN,
    "shop.orders": LOGIN,
    "shop.order_detail": LOGIN,
    "shop.cancel_order": LOGIN,
    "shop.reorder": LOGIN,
    "shop.ask_seller": LOGIN,
    "shop.write_about_order": LOGIN,
    "shop.conversations_list": LOGIN,
    "shop.conversation": LOGIN,
    "shop.conversation_report": LOGIN,
    "shop.notices": LOGIN,
    "shop.favourite": PUBLIC,
    "shop.favourite_ids": PUBLIC,
    "shop.favourites_page": PUBLIC,
    "shop.follow": LOGIN,
    "shop.following_page": LOGIN,
    "shop.stock_alert": LOGIN,
    "shop.stock_alerts_page": LOGIN,
    "shop.open_notice": LOGIN,
    "shop.read_all_notices": LOGIN,
    "shop.order_invoice": LOGIN,
    "shop.confirm_receipt": LOGIN,
    "shop.report_problem": LOGIN,
    "shop.write_review": LOGIN,
    "shop.report_review": LOGIN,
    "shop.product_reviews": PUBLIC,
    "shop.escalate_problem": LOGIN,
    "shop.withdraw_problem": LOGIN,
    "shop.payment_state": LOGIN,
    "shop.stripe_webhook": PUBLIC,  # Stripe's signature is the check
    "shop.ipg_callback": PUBLIC,  # the gateway's verify is the check, never the request
    "shop.sandbox_gateway": PUBLIC,  # 404 unless PAYMENT_SANDBOX is on
    "shop.sandbox_decide": PUBLIC,
    # accounts
    "auth.login": PUBLIC,
    "auth.register": PUBLIC,
    "auth.reset_request": PUBLIC,
    "auth.reset_password": PUBLIC,  # the signed, single-use token is the check
    "auth.reset_by_mobile": PUBLIC,
    "auth.reset_by_mobile_code": PUBLIC,  # only with a number asked for in this session
    "auth.logout": PUBLIC,
    "auth.password": LOGIN,
    "auth.account": LOGIN,
    "auth.account_mobile": LOGIN,
    "auth.account_mobile_code": LOGIN,
    "auth.mobile_login": PUBLIC,
    "auth.mobile_code": PUBLIC,  # only with a number asked for in this session
    "auth.mobile_welcome": PUBLIC,  # only with a number a code proved in this session
    "auth.account_data": LOGIN,
    "auth.delete_account": LOGIN,
    "auth.remove_address": LOGIN,
    "auth.notification_settings": LOGIN,
    "auth.verify_email": LOGIN,
    "auth.change_email": LOGIN,
    "auth.confirm_email": PUBLIC,  # the signed link is the check
    "auth.reauth": LOGIN,
    "auth.reauth_mobile": LOGIN,
    "auth.reauth_code": LOGIN,
    # seller area
    "sellers.apply": LOGIN,
    "sellers.answer_problem": SELLER,
    "sellers.reviews_list": SELLER,
    "sellers.price_hint": SELLER,
    "sellers.answer_review": SELLER,
    "sellers.escalate_problem": SELLER,
    "sellers.dashboard": SELLER,
    "sellers.numbers_csv": SELLER,
    "sellers.variant_sales": SELLER,
    "sellers.variant_sales_csv": SELLER,
    "sellers.orders_csv": SELLER,
    "sellers.profile": SELLER,
    "sellers.listings": SELLER,
    "sellers.new_listing": SELLER,
    "sellers.edit_listing": SELLER,
    "sellers.duplicate_listing": SELLER,
    "sellers.delete_listing": SELLER,
    "sellers.quick_edit": SELLER,
    "sellers.take_over_listing": SELLER,
    "sellers.revoke_consent": SELLER,
    "sellers.set_status": SELLER,
    "sellers.upload_photos": SELLER,
    "sellers.stage_photo_upload": SELLER,
    "sellers.delete_photo": SELLER,
    "sellers.move_photo": SELLER,
    "sellers.cover_photo": SELLER,
    "sellers.photo_alt": SELLER,
    "sellers.import_listings": SELLER,
    "sellers.export_listings": SELLER,
    "sellers.import_confirm": SELLER,
    "sellers.import_sample": SELLER,
    "sellers.orders_list": SELLER,
    "sellers.conversations_list": SELLER,
    "sellers.conversation": SELLER,
    "sellers.conversation_report": SELLER,
    "sellers.order_detail": SELLER,
    "sellers.move_order": SELLER,
    "sellers.packing_slip": SELLER,
    "sellers.order_invoice": SELLER,
    "sellers.offline_sales": SELLER,
    "sellers.booth_page": SELLER,
    "sellers.booth_entry": SELLER,
    "sellers.booth_worker": SELLER,
    "sellers.shipping_methods": SELLER,
    "sellers.new_shipping_method": SELLER,
    "sellers.edit_shipping_method": SELLER,
    "sellers.delete_shipping_method": SELLER,
    "sellers.vacation": SELLER,
    "sellers.coupon_list": SELLER,
    "sellers.end_coupon": SELLER,
    "sellers.campaign_list": SELLER,
    "sellers.join_campaign": SELLER,
    "sellers.delete_offline_sale": SELLER,
    "sellers.statement": SELLER,
    "sellers.statement_csv": SELLER,
    # staff area
    "admin.dashboard": STAFF,
    "admin.sellers": STAFF,
    "admin.seller_detail": STAFF,
    "admin.sales_report": STAFF,
    "admin.sales_csv": STAFF,
    "admin.sales_lines_csv": STAFF,
    "admin.sales_ministry_csv": STAFF,
    "admin.sales_seller": STAFF,
    "admin.new_offline_sale": STAFF,
    "admin.booth_page": STAFF,
    "admin.booth_entry": STAFF,
    "admin.booth_worker": STAFF,
    "admin.assist": STAFF,
    "admin.assist_ask": STAFF,
    "admin.assist_confirm": STAFF,
    "admin.assist_new_listing": STAFF,
    "admin.assist_edit_listing": STAFF,
    "admin.assist_quick_edit": STAFF,
    "admin.assist_stage_photo": STAFF,
    "admin.assist_price_hint": STAFF,
    "admin.offline_sales": STAFF,
    "admin.delete_offline_sale": STAFF,
    "admin.counties_report": STAFF,
    "admin.counties_csv": STAFF,
    "admin.counties_funnel_csv": STAFF,
    "admin.counties_monthly_csv": STAFF,
    "admin.county_detail": STAFF,
    "admin.county_sellers_csv": STAFF,
    "admin.county_monthly_csv": STAFF,
    "admin.county_categories_csv": STAFF,
    "admin.quotas": STAFF,
    "admin.quotas_upload": STAFF,
    "admin.quotas_upload_confirm": STAFF,
    "admin.delete_quota": STAFF,
    "admin.quotas_csv": STAFF,
    "admin.offline_sales_csv": STAFF,
    "admin.sellers_csv": STAFF,
    "admin.commission_rates": STAFF,
    "admin.set_commission_rate": STAFF,
    "admin.search_synonyms": STAFF,
    "admin.campaign_list": STAFF,
    "admin.create_campaign": STAFF,
    "admin.end_campaign": STAFF,
    "admin.add_search_synonym": STAFF,
    "admin.remove_search_synonym": STAFF,
    "admin.seller_balances": STAFF,
    "admin.settlement_batches": STAFF,
    "admin.create_settlement": STAFF,
    "admin.settlement_detail": STAFF,
    "admin.settlement_csv": STAFF,
    "admin.settlement_paid": STAFF,
    "admin.settlement_discard": STAFF,
    "admin.listings": STAFF,
    "admin.listings_csv": STAFF,
    "admin.listing_detail": STAFF,
    "admin.hide_listing": STAFF,
    "admin.release_listing": STAFF,
    "admin.audit_log": STAFF,
    "admin.audit_csv": STAFF,
    "admin.order_invoice": STAFF,
    "admin.payments": STAFF,
    "admin.decide_payment": STAFF,
    "admin.retry_refund": STAFF,
    "admin.problems": STAFF,
    "admin.early_warnings": STAFF,
    "admin.beneficiary": STAFF,
    "admin.beneficiary_loan_add": STAFF,
    "admin.loan_edit": STAFF,
    "admin.loan_delete": STAFF,
    "admin.beneficiary_import": STAFF,
    "admin.beneficiary_import_confirm": STAFF,
    "admin.self_dealing_flags": STAFF,
    "admin.self_dealing_decide": STAFF,
    "admin.impact_report": STAFF,
    "admin.impact_csv": STAFF,
    "admin.impact_xlsx": STAFF,
    "admin.reported_conversations": STAFF,
    "admin.conversation": STAFF,
    "admin.hide_message": STAFF,
    "admin.reported_reviews": STAFF,
    "admin.hide_review": STAFF,
    "admin.unhide_review": STAFF,
    "admin.job_queue": STAFF,
    "admin.site_pages": STAFF,
    "admin.edit_site_page": STAFF,
    "admin.problem_detail": STAFF,
    "admin.decide_problem": STAFF,
    "admin.retry_problem_refund": STAFF,
    # JSON API
    "api.products": PUBLIC,
    "api.product": PUBLIC,
    "api.seller": PUBLIC,
    "api.suggest": PUBLIC,
    "api.openapi_document": PUBLIC,
    # probes and metrics (app/web/health.py)
    "healthz": PUBLIC,
    "readyz": PROBE,  # 503 in this test: its fresh folder has no search index
    "metrics": PUBLIC,  # 404 unless METRICS_TOKEN is set; then its bearer token is the check
}

ROLES = ("anonymous", "customer", "seller", "staff")
ALLOWED = {
    PUBLIC: set(ROLES),
    PROBE: set(ROLES),
    LOGIN: {"customer", "seller", "staff"},
    SELLER: {"seller"},
    STAFF: {"staff"},
}


def sample_value(converter) -> object:  # type: ignore[no-untyped-def]
    """A value the converter accepts: 1 for numbers, the first choice of any(), else "x"."""
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, FloatConverter):
        return 1.0
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    return "x"


def sample_url(rule) -> str:  # type: ignore[no-untyped-def]
    values = {name: sample_value(conv) for name, conv in rule._converters.items()}
    built = rule.build(values, append_unknown=False)
    assert built is not None, f"cannot build a URL for {rule.rule}"
    return built[1]


def client_as(app, user: User | None):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as sess:
            sess["_user_id"] = factories.login_id(user)
            sess["_fresh"] = True
    return client


def goes_to_login(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 401 or (
        response.status_code == 302 and "/auth/login" in response.headers.get("Location", "")
    )


def test_every_route_obeys_its_access_class(app):
    seller = factories.seller()
    users = {
        "anonymous": None,
        "customer": factories.user(Role.CUSTOMER),
        "seller": seller.user,
        "staff": factories.user(Role.STAFF),
    }
    # The seller consents to listing on their behalf, so the assist forms open to staff (without
    # consent they refuse with 403: tests/test_assisted_listing.py).
    db.session.add(
        ListingConsent(
            seller_id=seller.id, staff_id=users["staff"].id, method="sms_code", mobile="09121234567"
        )
    )
    db.session.commit()
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ACCESS.keys())
    assert not missing, f"add these endpoints to ACCESS in {__file__}: {missing}"
    stale = sorted(ACCESS.keys() - endpoints)
    assert not stale, f"these endpoints no longer exist; remove them from ACCESS: {stale}"

    problems: list[str] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        access = ACCESS[rule.endpoint]
        url = sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                # A fresh client per request: a logout or a failed check cannot leak into the next.
                response = client_as(app, users[role]).open(url, method=method)
                status = response.status_code
                where = f"{method} {url} ({rule.endpoint}, {access}) as {role}: {status}"
                if status >= 500 and not (access == PROBE and status == 503):
                    problems.append(f"{where} - server error")
                elif role in ALLOWED[access]:
                    if status in (401, 403) or goes_to_login(response):
                        problems.append(f"{where} - should be allowed")
                elif role == "anonymous":
                    if not goes_to_login(response):
                        problems.append(f"{where} - should send the visitor to the login page")
                elif status != 403:
                    problems.append(f"{where} - should be 403 for the wrong role")
    assert not problems, "\n".join(problems)


def test_the_login_redirect_comes_back_to_the_page(client):
    response = client.get("/seller/listings?page=2")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/auth/login?next=")
    assert "listings" in location


# --- CSRF ---------------------------------------------------------------------------------------


def csrf_token(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(True))
    if match is None:
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(True))
    assert match, "the form carries a CSRF token"
    return match.group(1)


FORM_EXPIRED = "Your form expired or was sent from elsewhere. Please try again."


def test_login_needs_a_csrf_token(csrf_app):
    factories.user(email="sara@example.com")
    client = csrf_app.test_client()
    client.set_cookie("locale", "en")
    data = {"email": "sara@example.com", "password": factories.PASSWORD}
    response = client.post("/auth/login", data=data)
    assert response.status_code == 400
    assert FORM_EXPIRED in response.get_data(as_text=True)
    assert client.get("/auth/password").status_code == 302  # not logged in

    data["csrf_token"] = csrf_token(client.get("/auth/login"))
    assert client.post("/auth/login", data=data).status_code == 302
    assert client.get("/auth/password").status_code == 200


def test_register_needs_a_csrf_token(csrf_app):
    client = csrf_app.test_client()
    client.set_cookie("locale", "en")
    pw = "a long enough passphrase"
    data = {"name": "Sara", "email": "sara@example.com", "password": pw, "confirm": pw}
    response = client.post("/auth/register", data=data)
    assert response.status_code == 400
    assert FORM_EXPIRED in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0

    data["csrf_token"] = csrf_token(client.get("/auth/register"))
    assert client.post("/auth/register", data=data).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_logout_needs_a_csrf_token(csrf_app):
    factories.user(email="sara@example.com")
    client = csrf_app.test_client()
    client.set_cookie("locale", "en")
    token = csrf_token(client.get("/auth/login"))
    client.post(
        "/auth/login",
        data={"email": "sara@example.com", "password": factories.PASSWORD, "csrf_token": token},
    )
    response = client.post("/auth/logout")
    assert response.status_code == 400
    assert FORM_EXPIRED in response.get_data(as_text=True)
    assert client.get("/auth/password").status_code == 200  # still logged in

    token = csrf_token(client.get("/"))  # the logout button in the header
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/auth/password").status_code == 302


def test_a_token_of_another_session_is_refused(csrf_app):
    stranger = csrf_app.test_client()
    token = csrf_token(stranger.get("/auth/register"))
    client = csrf_app.test_client()
    client.get("/auth/register")
    pw = "a long enough passphrase"
    response = client.post(
        "/auth/register",
        data={"name": "S", "email": "s@example.com", "password": pw, "confirm": pw,
              "csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


# --- open redirects -----------------------------------------------------------------------------

UNSAFE_NEXT = [
    "https://evil.example/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil",
    "javascript:alert(1)",
    " //evil.example",
    "/\t/evil.example",
    "https:evil.example",
]
SAFE_NEXT = "/c/dates?page=2"


def assert_stays_on_site(response, path: str = "/", target: str = "") -> None:  # type: ignore[no-untyped-def]
    where = f"next={target!r}"
    assert response.status_code == 302, where
    parts = urlsplit(response.headers["Location"])
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), (where, parts)
    assert parts.path + (f"?{parts.query}" if parts.query else "") == path, where


def test_login_never_redirects_off_site(app):
    factories.user(email="sara@example.com")
    for target in UNSAFE_NEXT:
        client = app.test_client()
        response = client.post(
            f"/auth/login?next={quote(target)}",
            data={"email": "sara@example.com", "password": factories.PASSWORD, "next": target},
        )
        assert_stays_on_site(response, target=target)
        # Already logged in, the login page sends the visitor on; not off the site either.
        assert_stays_on_site(client.get(f"/auth/login?next={quote(target)}"), target=target)


def test_language_switch_never_redirects_off_site(client):
    for target in UNSAFE_NEXT:
        assert_stays_on_site(client.get(f"/lang/en?next={quote(target)}"), target=target)


def test_registration_never_redirects_off_site(app):
    pw = "a long enough passphrase"
    for n, target in enumerate(UNSAFE_NEXT):
        response = app.test_client().post(
            f"/auth/register?next={quote(target)}",
            data={"name": "S", "email": f"s{n}@example.com", "password": pw, "confirm": pw,
                  "next": target},
        )  # fmt: skip
        assert_stays_on_site(response, target=target)


def test_a_path_on_the_site_is_honoured(client):
    factories.user(email="sara@example.com")
    response = client.post(
        f"/auth/login?next={quote(SAFE_NEXT)}",
        data={"email": "sara@example.com", "password": factories.PASSWORD, "next": SAFE_NEXT},
    )
    assert_stays_on_site(response, SAFE_NEXT)
    assert_stays_on_site(client.get(f"/lang/en?next={quote(SAFE_NEXT)}"), SAFE_NEXT)


def test_the_next_of_the_login_link_survives_the_form(client):
    """GET /auth/login?next=… puts it in the form, so the POST can return there."""
    html = client.get(f"/auth/login?next={quote(SAFE_NEXT)}").get_data(as_text=True)
    assert 'name="next"' in html and "/c/dates?page=2" in html.replace("&amp;", "&")

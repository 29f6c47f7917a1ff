"""The storefront's trust: the market's own pages (stored, edited by staff, cached), the footer
and its trust symbol, the product page's seller card and lists, and the category filters."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import completion
from app.orders import services as orders
from app.orders.models import Order, OrderStatus
from app.pages import services as pages
from app.pages.markup import render_body
from app.pages.models import SitePage
from app.program import trust
from app.program.sales_models import SalesPeriod
from app.web.badge import parse_badge
from tests import factories
from tests.conftest import running_app
from tests.test_order_flow import as_user, place

KEYS = ("about", "contact", "terms", "returns", "privacy", "programme")


@pytest.fixture(autouse=True)
def _fresh_figures():
    trust.forget()
    yield
    trust.forget()


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def staff_client(app):  # type: ignore[no-untyped-def]
    from app.accounts.models import Role

    staff = factories.user(Role.STAFF, email="staff@example.com", name="کارشناس")
    return as_user(app, staff), staff


# --- the market's own pages -------------------------------------------------------------------


def test_every_page_is_served_at_its_short_address_in_both_languages(app, client):
    for key in KEYS:
        response = client.get(f"/{key}")
        assert response.status_code == 200, key
        assert pages.get_page(key).title_fa in text_of(response)
        assert client.get(f"/{key}").headers["X-Page-Cache"] == "hit"
    client.set_cookie("locale", "en")
    html = text_of(client.get("/returns"))
    assert "<h1>Returns and refunds</h1>" in html
    # The settings the text names are filled in, in the reader's digits.
    assert "until 10 days after" in html and "within 3 days" in html
    client.set_cookie("locale", "fa")
    assert "تا ۱۰ روز پس از آن" in text_of(client.get("/returns"))
    assert client.get("/nothing-here").status_code == 404


def test_the_footer_links_every_page_and_the_programme_line(client):
    html = text_of(client.get("/"))
    footer = html[html.index('<footer class="site-footer"') :]
    for key in KEYS:
        assert f'href="/{key}"' in footer
    assert "طرح ملی مشاغل خانگی" in footer
    assert "trust-badge" not in footer  # no symbol configured


def test_the_pages_start_with_the_texts_the_migration_stores(app):
    # A database made by create_all has no rows: the built-in texts show, and staff's first edit
    # writes the row. The migration stores the same texts (tests/test_migrations.py runs it).
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SitePage)) == 0
    about = pages.get_page("about")
    assert "طرح ملی توسعه مشاغل خانگی" in about.body_fa
    assert "national home-business programme" in about.body_en
    assert about.updated_by_id is None


def test_staff_edit_a_page_and_visitors_see_it_at_once(app, client):
    staff, person = staff_client(app)
    assert "طرح ملی" in text_of(client.get("/about"))  # cached now
    form = text_of(staff.get("/admin/pages/about"))
    assert 'name="body_fa"' in form and "<textarea" in form
    response = staff.post(
        "/admin/pages/about",
        data={
            "title_fa": "درباره ما",
            "title_en": "About us",
            "body_fa": "## بازار ما\nمتن تازه با [پیوند](/returns).\n\n- یک\n- دو",
            "body_en": "New text.",
        },
    )
    assert response.status_code == 302
    html = text_of(client.get("/about"))
    assert "<h1>درباره ما</h1>" in html
    assert '<h2>بازار ما</h2><p>متن تازه با <a href="/returns">پیوند</a>.</p>' in html
    assert "<ul><li>یک</li><li>دو</li></ul>" in html
    row = db.session.get(SitePage, "about")
    assert row.updated_by_id == person.id
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "site_page.edit")
    ).one()
    assert event.actor_id == person.id and event.data["key"] == "about"
    assert set(event.data["fields"]) == {"title_fa", "title_en", "body_fa", "body_en"}
    listing = text_of(staff.get("/admin/pages"))
    assert "About us" in listing and 'href="/admin/pages/privacy"' in listing
    # The same text again changes nothing and writes no audit row.
    staff.post(
        "/admin/pages/about",
        data={
            "title_fa": "درباره ما",
            "title_en": "About us",
            "body_fa": row.body_fa,
            "body_en": "New text.",
        },
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


def test_a_bad_edit_is_refused_and_changes_nothing(app, client):
    staff, _person = staff_client(app)
    response = staff.post(
        "/admin/pages/terms",
        data={"title_fa": "  ", "title_en": "Terms", "body_fa": "x" * 20_001, "body_en": "ok"},
    )
    assert response.status_code == 400
    html = text_of(response)
    assert html.count('class="error"') == 2
    assert db.session.get(SitePage, "terms") is None
    assert staff.get("/admin/pages/nope").status_code == 404
    assert staff.post("/admin/pages/nope", data={}).status_code == 404


def test_what_staff_type_never_becomes_html():
    html = str(
        render_body(
            "<script>alert(1)</script>\n[x](javascript:alert(1)) [y](//evil.example) "
            '[z](https://ok.example/a?b=1&c=2) [q](https://x.example/"a) [mail](mailto:a@b.example)\n## <b>head</b>'
        )
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and "[x](javascript:alert(1))" in html
    assert 'href="//evil' not in html
    assert '<a href="https://ok.example/a?b=1&amp;c=2" rel="noopener">z</a>' in html
    assert "[q](https://x.example/&#34;a)" in html  # a quote in an address: no link
    assert '<a href="mailto:a@b.example">mail</a>' in html
    assert "<h2>&lt;b&gt;head&lt;/b&gt;</h2>" in html


# --- the trust symbol --------------------------------------------------------------------------

ENAMAD = (
    "<a referrerpolicy='origin' target='_blank' href='https://trustseal.enamad.ir/?id=1&Code=x'>"
    "<img referrerpolicy='origin' src='https://trustseal.enamad.ir/logo.aspx?id=1&Code=x' alt='' "
    "style='cursor:pointer' code='x' onclick='steal()'></a>"
)


def test_the_trust_symbol_keeps_only_links_and_images_over_https():
    markup, origins = parse_badge(ENAMAD)
    assert str(markup) == (
        '<a referrerpolicy="origin" target="_blank" href="https://trustseal.enamad.ir/?id=1&amp;Code=x" rel="noopener">'
        '<img referrerpolicy="origin" src="https://trustseal.enamad.ir/logo.aspx?id=1&amp;Code=x" alt=""></a>'
    )
    assert origins == ["https://trustseal.enamad.ir"]
    for bad in (
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<img src="http://plain.example/x.png">',
        '<iframe src="https://x.example"></iframe>',
        '<a href="https://x.example"><svg onload="x()"></svg></a>',
    ):
        with pytest.raises(ValueError):
            parse_badge(bad)
    assert parse_badge("  ") == ("", [])


@pytest.fixture
def badge_app(tmp_path):  # type: ignore[no-untyped-def]
    yield from running_app(tmp_path, TRUST_BADGE_HTML=ENAMAD)


def test_the_footer_shows_the_configured_symbol_and_the_csp_allows_its_image(badge_app):
    response = badge_app.test_client().get("/about")
    html = response.get_data(as_text=True)
    assert '<div class="trust-badge"><a referrerpolicy="origin"' in html
    assert "steal" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://trustseal.enamad.ir;" in csp
    assert "script-src 'self';" in csp


def test_an_app_with_a_symbol_that_is_not_allowed_does_not_start(tmp_path):
    from app import create_app
    from tests.conftest import settings

    with pytest.raises(ValueError, match="not allowed"):
        create_app(settings(tmp_path, TRUST_BADGE_HTML="<script>alert(1)</script>"))


# --- the product page ---------------------------------------------------------------------------


@pytest.fixture
def market(app):  # type: ignore[no-untyped-def]
    app.config.update(RECEIPT_WINDOW_DAYS=10)
    pots = factories.category(slug="pots")
    other_category = factories.category(slug="cloth")
    a = factories.seller(name="سفال کلپورگان")
    b = factories.seller(name="کارگاه دیگر")
    bowl = factories.product(a, title="کاسه", category_row=pots, stock=50, price_amount=500_000)
    mine = [
        factories.product(a, title=f"از همین فروشنده {n}", category_row=other_category)
        for n in range(9)
    ]
    draft = factories.product(
        a, title="پیش‌نویس", category_row=pots, status=factories.ProductStatus.DRAFT
    )
    theirs = factories.product(b, title="کوزه دیگری", category_row=pots)
    mina = factories.user(email="mina@example.com", name="مینا")
    return {
        "a": a,
        "b": b,
        "bowl": bowl,
        "mine": mine,
        "draft": draft,
        "theirs": theirs,
        "mina": mina,
    }


def titles(html: str, section: str) -> list[str]:
    start = html.index(f'aria-labelledby="{section}"')
    end = html.index("</section>", start)
    return re.findall(r'card-title">([^<]+)', html[start:end])


def test_the_product_page_shows_more_from_the_seller_and_related_products(app, client, market):
    html = text_of(client.get(f"/p/{market['bowl'].id}"))
    more = titles(html, "more-h")
    assert len(more) == 8 and "کاسه" not in more and "پیش‌نویس" not in more
    assert "از همین فروشنده 8" in more  # newest first
    assert titles(html, "related-h") == ["کوزه دیگری"]
    assert 'href="/programme"' in html.split('class="seller-card"')[1].split("</aside>")[0]


def test_the_seller_card_tells_member_since_sales_shipping_and_answers(app, client, market):
    a, bowl, mina = market["a"], market["bowl"], market["mina"]
    a.approved_at = utcnow().replace(year=2025, month=3, day=1)
    db.session.commit()
    card = text_of(client.get(f"/p/{bowl.id}")).split('class="seller-card"')[1].split("</aside>")[0]
    assert "اسفند ۱۴۰۳" in card and "تازه در بازارچه" in card
    assert "Usually ships" not in card

    # Three cash orders shipped 1, 2 and 30 hours after they were placed; one completed.
    now = utcnow()
    for hours in (1, 2, 30):
        order = place(mina, (bowl, 1)).orders[0]
        orders.seller_move(order, a, a.user, OrderStatus.CONFIRMED)
        orders.seller_move(order, a, a.user, OrderStatus.SHIPPED, carrier="پست", tracking_code="1")
        db.session.execute(
            sa.update(Order)
            .where(Order.id == order.id)
            .values(
                created_at=now - timedelta(hours=hours + 1), shipped_at=now - timedelta(hours=1)
            )
        )
        db.session.commit()
    completion.complete_by_customer(db.session.get(Order, order.id), mina)
    # Three questions: answered after 1 hour, after 3 hours, never (asked 50 hours ago).
    from app.conversations import services as talk
    from app.conversations.models import ConversationMessage

    for n, answer_after in enumerate((1, 3, None)):
        other = factories.product(a, title=f"پرسیده {n}")
        conversation = talk.about_product(mina, other)
        talk.post(conversation, mina, "سلام، موجود است؟")
        if answer_after is not None:
            talk.post(conversation, a.user, "بله")
        asked = now - timedelta(hours=50 if answer_after is None else 10)
        messages = db.session.scalars(
            sa.select(ConversationMessage)
            .where(ConversationMessage.conversation_id == conversation.id)
            .order_by(ConversationMessage.id)
        ).all()
        messages[0].created_at = asked
        if answer_after is not None:
            messages[1].created_at = asked + timedelta(hours=answer_after)
        db.session.commit()

    # Kept for the worker's 10 minutes: the first page read them before any of this.
    assert trust.seller_figures(a.id, a.user_id).sales == 0
    trust.forget()
    figures = trust.seller_figures(a.id, a.user_id)
    assert figures.sales == 1  # the completed cash order; the others are not sold yet
    assert figures.ship_hours == 2 and figures.ship_days == 1
    assert figures.reply_hours == 3 and figures.reply_within == "hours"
    client.set_cookie("locale", "en")  # another language: a page not cached yet
    card = text_of(client.get(f"/p/{bowl.id}")).split('class="seller-card"')[1].split("</aside>")[0]
    assert "Esfand 1403" in card
    assert re.search(r"<dt>Sales</dt><dd>1</dd>", card)
    assert "within 1 day of payment" in card and "within a few hours" in card


def test_sales_are_read_from_the_yearly_summary_rows(app, market):
    a = market["a"]
    for key, count in (("Y1403", 4), ("Y1404", 3), ("M140401", 3), ("S14041", 3)):
        db.session.add(SalesPeriod(seller_id=a.id, period_key=key, orders=count))
    db.session.commit()
    assert trust.sales_count(a.id) == 7


def test_the_product_page_is_keyed_by_the_span_its_seller_parts_were_read_in(
    app, client, market, monkeypatch
):
    url = f"/p/{market['bowl'].id}"
    assert client.get(url).headers["X-Page-Cache"] == "miss"
    assert client.get(url).headers["X-Page-Cache"] == "hit"
    # A new listing of the seller does not bump this page's scope: it shows once the span ends.
    factories.product(market["a"], title="تازه‌ترین", category_row=market["bowl"].category)
    assert "تازه‌ترین" not in text_of(client.get(url))
    span = trust.figures_period(market["bowl"].id)
    monkeypatch.setattr(trust, "figures_period", lambda salt=0: span + 1)
    trust.forget()
    response = client.get(url)
    assert response.headers["X-Page-Cache"] == "miss"
    assert "تازه‌ترین" in text_of(response)


# --- category filters ---------------------------------------------------------------------------


def test_category_pages_filter_by_price_county_and_stock_and_keep_them_in_page_links(app, client):
    app.config["PAGE_SIZE"] = 2
    pots = factories.category(slug="pots")
    north, south = factories.county(), factories.county()
    a = factories.seller(county_row=north)
    b = factories.seller(county_row=south)
    for n, (shop, price, stock) in enumerate(
        [
            (a, 100_000, 1),
            (a, 5_000_000, 0),
            (b, 1_000_000, 2),
            (b, 2_000_000, 2),
            (b, 3_000_000, 2),
        ]
    ):
        factories.product(
            shop, title=f"کالا {n}", price_amount=price, stock=stock, category_row=pots
        )

    def shown(query: str) -> tuple[list[str], str]:
        response = client.get("/c/pots" + query)
        assert response.status_code == 200
        html = text_of(response)
        return re.findall(r'card-title">کالا (\d)', html), html

    assert shown("?min_price=۵۰٬۰۰۰&max_price=250000")[0] == ["3", "2"]
    found, html = shown("?in_stock=1&min_price=50000")
    assert found == ["4", "3"] and "(۳)" in html  # three match, two a page
    assert 'rel="next" href="/c/pots?in_stock=1&min_price=50000&page=2"' in html
    assert shown("?in_stock=1&min_price=50000&page=2")[0] == ["2"]
    assert shown(f"?county={north.slug}")[0] == ["1", "0"]
    found, html = shown(f"?county={north.slug}&in_stock=1")
    assert found == ["0"] and f'<option value="{north.slug}" selected>' in html
    # Malformed filters are ignored, never an error.
    assert shown("?min_price=abc&max_price=-5&county=nowhere&in_stock=maybe")[0] == ["4", "3"]

"""Search that forgives, through the shop: a typo's results at once with a way back to the
literal query, the staff's synonyms (edited under /admin, applied without a reindex), English
titles, and the database fallback with the same normaliser."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog import indexing, queries, synonyms
from app.catalog.models import SearchSynonym
from app.core.extensions import db
from tests import factories


def page(client, url: str, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return response.get_data(as_text=True)


def card_titles(html: str) -> list[str]:
    return re.findall(r'<span class="card-title">(.*?)</span>', html)


def _indexed(*titles: str) -> list:
    shop = factories.seller()
    products = [factories.product(shop, title=t, with_image=False) for t in titles]
    indexing.reindex()
    return products


def test_a_typo_shows_the_corrected_results_and_a_link_to_the_literal_query(client):
    _indexed("گلیم دستباف", "گلیم قدیمی", "سفال کلپورگان")
    try:
        client.set_cookie("locale", "en")
        html = page(client, "/search?q=گلیک")
        assert sorted(card_titles(html)) == ["گلیم دستباف", "گلیم قدیمی"]
        assert "Showing results for گلیم" in html
        link = re.search(r'class="did-you-mean".*?href="([^"]+)"', html, re.S).group(1)
        assert "exact=1" in link
        literal = page(client, link.replace("&amp;", "&"))
        assert card_titles(literal) == []
        assert "Did you mean" in literal and "Showing results for" not in literal
        body = client.get("/api/v1/products?q=گلیک").get_json()
        assert body["corrected"] == "گلیم" and body["total"] == 2
        assert client.get("/api/v1/products?q=گلیک&exact=1").get_json()["total"] == 0
    finally:
        indexing.backend().close()


def test_english_titles_and_category_names_are_searchable(client):
    (soap,) = _indexed("صابون زیتون")
    soap.title_en = "Olive oil soap"
    db.session.commit()
    indexing.reindex()
    try:
        assert card_titles(page(client, "/search?q=olive")) == ["صابون زیتون"]
        category = soap.category.name_en.split()[0]  # «Category»
        assert card_titles(page(client, f"/search?q={category}")) == ["صابون زیتون"]
    finally:
        indexing.backend().close()


def test_the_listing_form_offers_an_english_title(client):
    seller = factories.seller()
    factories.login(client, seller.user.email)
    html = page(client, "/seller/listings/new")
    assert 'name="title_en"' in html


def test_staff_edit_the_synonyms_and_search_applies_them_without_a_reindex(client):
    _indexed("ظروف مسی", "کاسه چوبی")
    staff = factories.user(Role.STAFF, email="staff@example.com")
    factories.login(client, staff.email)
    try:
        assert card_titles(page(client, "/search?q=ظرف&exact=1")) == []
        assert page(client, "/admin/search/synonyms")
        response = client.post("/admin/search/synonyms", data={"word": "ظرف", "other": "ظروف"})
        assert response.status_code == 302
        assert card_titles(page(client, "/search?q=ظرف")) == ["ظروف مسی"]
        # the same pair again, two words, the same word: refused, nothing added
        for word, other in (("ظروف", "ظرف"), ("ظرف مسی", "ظروف"), ("ظرف", "ظرف"), ("", "x")):
            response = client.post("/admin/search/synonyms", data={"word": word, "other": other})
            assert response.status_code == 400
        rows = db.session.scalars(sa.select(SearchSynonym)).all()
        assert [(r.word, r.other) for r in rows] == [("ظرف", "ظروف")]
        html = page(client, "/admin/search/synonyms")
        assert "data-confirm=" in html
        response = client.post(f"/admin/search/synonyms/{rows[0].id}/remove")
        assert response.status_code == 302
        assert client.post(f"/admin/search/synonyms/{rows[0].id}/remove").status_code == 404
        assert db.session.scalar(sa.select(sa.func.count(SearchSynonym.id))) == 0
        assert card_titles(page(client, "/search?q=ظرف&exact=1")) == []
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.target_type == "search_synonym")
        ).all()
        assert sorted(actions) == ["search.synonym_added", "search.synonym_removed"]
    finally:
        indexing.backend().close()


def test_the_database_fallback_uses_the_search_normaliser(app):
    shop = factories.seller()
    titles = (
        "كيف چرمي",
        "رومیزی سوزن\u200cدوزی",
        "خرمای مضافتی",
        "ترشیجات خانگی",
        "سفال ۵۰۰",
        "\ufeb1\ufe92\ufea9 حصیری",  # «سبد» in presentation forms
    )
    for title in titles:
        factories.product(shop, title=title, with_image=False)
    synonyms.seed([("ترشیجات", "ترشی")])
    db.session.commit()

    def found(text: str) -> list[str]:
        page = queries.search_products(text, 1, 20, "newest", None, synonyms.synonym_map())
        return sorted(p.title for p in page.items)

    assert found("کیف چرمی") == ["كيف چرمي"]
    assert found("سوزندوزی") == ["رومیزی سوزن\u200cدوزی"]
    assert found("سوزن\u200cدوزی") == ["رومیزی سوزن\u200cدوزی"]
    assert found("خرمای") == ["خرمای مضافتی"]
    assert found("خرما") == ["خرمای مضافتی"]
    assert found("ترشی") == ["ترشیجات خانگی"]
    assert found("سفال 500") == ["سفال ۵۰۰"]
    assert found("سبد") == ["\ufeb1\ufe92\ufea9 حصیری"]
    assert found("khorma") == ["خرمای مضافتی"]
    assert len(found("category")) == 6  # the English names of their categories
    assert len(found("%")) == 6  # no word: everything, as the index answers


def test_the_demo_starter_list_is_seeded_once(app):
    assert synonyms.seed() == len(synonyms.STARTER)
    db.session.commit()
    assert synonyms.seed() == 0
    assert synonyms.synonym_map()["ظروف"] == ("ظرف",)

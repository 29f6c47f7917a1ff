"""A damaged, lost or emptied search index never fails a request that changed the catalogue: the
change is saved, its products stay dirty, search says it is degraded and answers from the
database, and the next ``flask search sync`` rebuilds the index (aside, then swapped in). A sync
never replaces a lost index with an empty one. And no query, however long its words, costs much
more than a normal one. Every backend the suite can run."""

from __future__ import annotations

import json
import re
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.catalog import indexing
from app.catalog.models import Product
from app.core.extensions import db
from app.orders.models import Order
from app.search import SearchQuery
from tests import factories
from tests.conftest import close_search, running_app
from tests.helpers import ADDRESS
from tests.search.support import KINDS, search_cleanup, spy_on_typo_lookups

NOTICE = "Search is running in a simpler mode"


def _app(tmp_path: Path, kind: str) -> Iterator:
    # (every search counts again: no process trusts an older count check)
    yield from running_app(
        tmp_path,
        search_cleanup(kind),
        SEARCH_BACKEND=kind,
        SEARCH_SYNC_ON_REQUEST=True,
        SEARCH_CHECK_SECONDS=0,
    )


@pytest.fixture(params=KINDS)
def synced_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """An app on each backend that indexes after every request that changed the catalogue."""
    yield from _app(tmp_path, request.param)


@pytest.fixture
def whoosh_app(tmp_path: Path) -> Iterator:
    yield from _app(tmp_path, "whoosh")


@pytest.fixture
def shop(synced_app):  # type: ignore[no-untyped-def]
    return _shop()


def _shop() -> dict:
    seller = factories.seller(name="کارگاه سفال")
    category = factories.category()
    products = [
        factories.product(
            seller, title=f"کاسه سفالی {n}", stock=5, category_row=category, with_image=False
        )
        for n in range(10)
    ]
    indexing.reindex()
    return {"seller": seller, "products": products}


def dirty_ids() -> list[int]:
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(Product.id).where(Product.search_dirty.is_(True))))


def checkout(client, product: Product) -> None:  # type: ignore[no-untyped-def]
    """A customer buys one of ``product``: the order is placed and the redirect is normal."""
    customer = factories.user(email=f"buyer{product.id}@example.com")
    factories.login(client, customer.email)
    response = client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    assert response.status_code == 302
    html = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/checkout", data={**ADDRESS, "checkout_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client.post("/auth/logout")


def quick_edit(client, product: Product, stock: int) -> None:  # type: ignore[no-untyped-def]
    factories.login(client, product.seller.user.email)
    response = client.post(
        f"/seller/listings/{product.id}/quick", data={"price_toman": "90000", "stock": str(stock)}
    )
    assert response.status_code == 302
    client.post("/auth/logout")


def search_answers_from_the_database(client, title: str) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/products?q=کاسه&per_page=100").get_json()
    assert body["degraded"] is True
    assert title in [item["title"] for item in body["items"]]
    client.set_cookie("locale", "en")
    html = client.get("/search?q=کاسه").get_data(as_text=True)
    client.delete_cookie("locale")
    assert NOTICE in html


def search_answers_from_the_index(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/products?q=کاسه&per_page=100").get_json()
    assert body["degraded"] is False
    assert body["total"] == 10


def rebuild_with_the_sync_command(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert dirty_ids() == []
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}


def truncate_a_segment(app) -> None:  # type: ignore[no-untyped-def]
    root = Path(app.config["SEARCH_INDEX_DIR"])
    segments = list(root.glob("index-*/*.seg"))
    assert segments
    for seg in segments:
        with seg.open("r+b") as fh:
            fh.truncate(seg.stat().st_size // 2)


# --- item: a damaged index ----------------------------------------------------------------------


def test_a_damaged_whoosh_index_never_fails_a_checkout_or_a_quick_edit(whoosh_app) -> None:
    shop = _shop()
    cup, bowl = shop["products"][:2]
    client = whoosh_app.test_client()
    search_answers_from_the_index(client)
    truncate_a_segment(whoosh_app)

    checkout(client, cup)  # placed, stock taken, no 500
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1
    assert db.session.get(Product, cup.id).stock == 4
    quick_edit(client, bowl, stock=2)
    assert db.session.get(Product, bowl.id).stock == 2
    assert dirty_ids() == sorted([cup.id, bowl.id])  # nothing lost
    assert indexing.index_problem() is not None
    search_answers_from_the_database(client, bowl.title)

    rebuild_with_the_sync_command(whoosh_app)
    search_answers_from_the_index(client)
    result = indexing.backend().search(SearchQuery(text="کاسه", in_stock=True, per_page=100))
    assert result.total == 10


def test_a_sync_failure_of_any_kind_leaves_the_products_dirty(synced_app, shop) -> None:
    """Whatever the backend raises while writing (here an error no backend declares), the
    request that saved the change answers normally and search degrades."""
    bowl = shop["products"][0]
    engine = indexing.backend()

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("a fault nobody planned for")

    engine.index = broken  # type: ignore[method-assign]
    try:
        client = synced_app.test_client()
        quick_edit(client, bowl, stock=1)
        assert dirty_ids() == [bowl.id]
        search_answers_from_the_database(client, bowl.title)
    finally:
        del engine.index  # type: ignore[method-assign]
    rebuild_with_the_sync_command(synced_app)
    search_answers_from_the_index(client)


def test_a_failed_removal_of_a_deleted_listing_degrades_search(synced_app, shop) -> None:
    gone = shop["products"][0]
    engine = indexing.backend()

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise KeyError("a fault nobody planned for")

    engine.remove = broken  # type: ignore[method-assign]
    try:
        client = synced_app.test_client()
        factories.login(client, gone.seller.user.email)
        assert client.post(f"/seller/listings/{gone.id}/delete").status_code == 302
        assert indexing.index_problem() is not None
    finally:
        del engine.remove  # type: ignore[method-assign]
    result = synced_app.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert indexing.index_problem() is None
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}


def test_the_sync_command_says_when_it_cannot_rebuild_the_index(whoosh_app) -> None:
    shop = _shop()
    root = Path(whoosh_app.config["SEARCH_INDEX_DIR"])
    close_search(whoosh_app)
    shutil.rmtree(root)
    root.write_text("not a folder")  # nothing can be built here
    bowl = shop["products"][0]
    db.session.execute(sa.update(Product).where(Product.id == bowl.id).values(search_dirty=True))
    db.session.commit()
    result = whoosh_app.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 1
    assert "could not be repaired" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert dirty_ids() == [bowl.id]


# --- item: a lost or emptied index --------------------------------------------------------------


def lose_the_index(app) -> None:  # type: ignore[no-untyped-def]
    if app.config["SEARCH_BACKEND"] == "whoosh":
        shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    else:
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA search CASCADE"))


def empty_the_index(app) -> None:  # type: ignore[no-untyped-def]
    if app.config["SEARCH_BACKEND"] == "whoosh":
        from app.search import WhooshBackend

        WhooshBackend(app.config["SEARCH_INDEX_DIR"]).clear()  # as another process would
    else:
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM search.document"))


def test_a_lost_index_is_never_replaced_by_an_empty_one(synced_app, shop) -> None:
    cup, bowl = shop["products"][:2]
    client = synced_app.test_client()
    lose_the_index(synced_app)

    checkout(client, cup)
    quick_edit(client, bowl, stock=2)
    assert indexing.backend().exists() is False  # no empty index in its place
    assert dirty_ids() == sorted([cup.id, bowl.id])
    search_answers_from_the_database(client, bowl.title)

    rebuild_with_the_sync_command(synced_app)
    search_answers_from_the_index(client)


def test_an_index_far_smaller_than_the_catalogue_is_degraded_and_rebuilt(synced_app, shop) -> None:
    bowl = shop["products"][0]
    client = synced_app.test_client()
    search_answers_from_the_index(client)
    empty_the_index(synced_app)

    search_answers_from_the_database(client, bowl.title)
    quick_edit(client, bowl, stock=2)
    assert dirty_ids() == [bowl.id]  # not written into the emptied index
    assert indexing.backend().health()["docs"] == 0

    rebuild_with_the_sync_command(synced_app)
    search_answers_from_the_index(client)


def test_a_lost_index_is_rebuilt_in_the_background_after_a_change(synced_app, shop) -> None:
    """The worker that finds the index lost starts one rebuild in a thread; the request that
    changed the catalogue answers as usual, and search comes back from the index afterwards."""
    cup, bowl = shop["products"][:2]
    synced_app.config["SEARCH_REBUILD_IN_BACKGROUND"] = True
    client = synced_app.test_client()
    lose_the_index(synced_app)

    quick_edit(client, bowl, stock=2)
    state = synced_app.extensions.get("bazarche_search_rebuild")
    assert state is not None and state["thread"] is not None, "no background rebuild started"
    state["thread"].join(60)
    assert not state["thread"].is_alive()
    # one rebuild per retry period: the next failure does not start another at once
    assert indexing.repair_in_background() is None

    indexing.forget_index_check()
    assert indexing.index_problem() is None
    # a change committed while the rebuild ran stays dirty for the next request's sync
    indexing.sync_quietly()
    assert dirty_ids() == []
    search_answers_from_the_index(client)
    body = client.get("/api/v1/products?q=کاسه&per_page=100").get_json()
    assert {item["id"]: item["price"] for item in body["items"]}[bowl.id] == 900_000


def test_a_search_that_finds_the_index_damaged_starts_a_rebuild(
    synced_app, shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced_app.config["SEARCH_REBUILD_IN_BACKGROUND"] = True
    client = synced_app.test_client()
    empty_the_index(synced_app)
    bowl = shop["products"][0]
    # The rebuild waits until the test has seen the pages answered meanwhile (a small index
    # rebuilds faster than the test's next request).
    seen = threading.Event()
    rebuild = indexing._rebuild_thread
    monkeypatch.setattr(indexing, "_rebuild_thread", lambda app: (seen.wait(30), rebuild(app)))

    search_answers_from_the_database(client, bowl.title)
    seen.set()
    state = synced_app.extensions["bazarche_search_rebuild"]
    state["thread"].join(60)
    indexing.forget_index_check()
    search_answers_from_the_index(client)


def test_background_rebuilds_can_be_switched_off(synced_app, shop) -> None:
    lose_the_index(synced_app)
    assert indexing.index_problem() is not None
    assert indexing.repair_in_background() is None  # the suite's default: off


def test_products_waiting_for_a_sync_are_not_a_lost_index(synced_app, shop) -> None:
    """New products not yet indexed are dirty: the index is behind, not lost."""
    seller = shop["seller"]
    for n in range(10):
        factories.product(seller, title=f"بشقاب سفالی {n}", with_image=False)
    assert indexing.index_problem() is None
    body = synced_app.test_client().get("/api/v1/products?q=کاسه").get_json()
    assert body["degraded"] is False


# --- item: a query of very long words -----------------------------------------------------------


def test_a_very_long_word_gets_a_normal_page_without_did_you_mean_work(
    synced_app, shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = spy_on_typo_lookups(indexing.backend(), monkeypatch)
    client = synced_app.test_client()
    client.set_cookie("locale", "en")
    for text in ("کاسهٔ" * 40, " ".join(["بشقابهایسفالیلعابدار" * 2] * 20)):
        response = client.get("/search", query_string={"q": text})
        assert response.status_code == 200
        assert NOTICE not in response.get_data(as_text=True)  # the index answered
        body = client.get("/api/v1/products", query_string={"q": text}).get_json()
        assert body["degraded"] is False
        assert body["total"] == 0 and body["items"] == [] and body["suggestion"] is None
    assert asked == []
    body = client.get("/api/v1/products", query_string={"q": "کاسهی سفالی"}).get_json()
    assert body["degraded"] is False and body["total"] == 10  # a normal query, for contrast


# --- the same through the real server --------------------------------------------------------------


@pytest.fixture(scope="module")
def server_settings() -> dict:
    """The gunicorn workers index after each request, as in production."""
    return {"SEARCH_SYNC_ON_REQUEST": True, "SEARCH_BACKEND": "whoosh", "SEARCH_CHECK_SECONDS": 0}


@pytest.mark.slow
def test_a_damaged_index_never_fails_a_checkout_on_the_live_server(app, live) -> None:
    from tests.live_server import (
        Browser,
        assert_no_server_errors,
        checkout_form,
        customers,
        fresh,
        log_in,
        put_in_cart,
    )

    app.config["SEARCH_INDEX_DIR"] = str(live.mail_dir.parent / "search")  # the workers' index
    close_search(app)
    shop = _shop()
    cup, bowl = shop["products"][:2]
    bowl_word = urllib.parse.quote("کاسه")
    buyers = customers(2)
    for buyer in buyers:
        put_in_cart(buyer, (cup, 1))
    browsers = log_in(live, buyers)
    visitor = Browser(live.url)
    assert visitor.get(f"/api/v1/products?q={bowl_word}").status == 200  # a worker opens the index
    close_search(app)
    truncate_a_segment(app)

    replies = [b.post("/checkout", checkout_form()) for b in browsers]
    (seller,) = log_in(live, [shop["seller"].user])
    replies.append(
        seller.post(f"/seller/listings/{bowl.id}/quick", {"price_toman": "90000", "stock": "2"})
    )
    replies.append(visitor.get(f"/search?q={bowl_word}"))
    assert_no_server_errors(live, replies)
    assert [r.status for r in replies[:2]] == [303, 303]
    assert replies[2].status == 302
    fresh()  # read what the workers committed
    assert dirty_ids() == sorted([cup.id, bowl.id])
    body = json.loads(visitor.get(f"/api/v1/products?q={bowl_word}&per_page=100").text)
    assert body["degraded"] is True and bowl.title in [i["title"] for i in body["items"]]

    rebuild_with_the_sync_command(app)
    body = json.loads(visitor.get(f"/api/v1/products?q={bowl_word}&per_page=100").text)
    assert body["degraded"] is False and body["total"] == 10

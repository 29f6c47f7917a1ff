"""The index stays true to the database: sync after commit, busy writers, several processes,
a deleted or corrupted index, reindex and verify."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.catalog import indexing
from app.catalog.models import Product, SellerStatus
from app.extensions import db
from app.search import SearchQuery
from tests import factories
from tests.conftest import DATABASE_URL, close_search, make_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def synced_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    """An app that indexes after every request that changed the catalogue, as in production."""
    app = make_app(tmp_path, SEARCH_SYNC_ON_REQUEST=True)
    with app.app_context():
        yield app
        db.session.remove()
    close_search(app)
    with app.app_context():
        db.engine.dispose()


def found(text: str) -> list[int]:
    return indexing.backend().search(SearchQuery(text=text, per_page=100)).ids


def dirty_ids() -> list[int]:
    return list(db.session.scalars(sa.select(Product.id).where(Product.search_dirty.is_(True))))


def test_a_sellers_edit_is_searchable_after_the_request(synced_app) -> None:
    product = factories.product(title="کوزهٔ سفالی")
    indexing.reindex()
    client = synced_app.test_client()
    factories.login(client, product.seller.user.email)
    response = client.post(
        f"/seller/listings/{product.id}/edit",
        data={
            "title": "گلدان سفالی کلپورگان",
            "description": "",
            "category_id": product.category_id,
            "price_toman": "50000",
            "stock": "3",
            "status": "published",
        },
    )
    assert response.status_code == 302
    assert found("کلپورگان") == [product.id]
    assert dirty_ids() == []
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}


def test_suspension_removes_the_products_from_the_index(synced_app) -> None:
    product = factories.product(title="صابون گیاهی سدر")
    indexing.reindex()
    assert found("صابون") == [product.id]
    from app.accounts.models import Role

    staff = factories.user(Role.STAFF)
    client = synced_app.test_client()
    factories.login(client, staff.email)
    response = client.post(
        f"/admin/sellers/{product.seller_id}", data={"action": "suspend", "reason": "بررسی"}
    )
    assert response.status_code == 302
    assert found("صابون") == []
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}


def test_a_checkout_style_stock_change_marks_the_product_dirty(app) -> None:
    product = factories.product(title="خرمای مضافتی", stock=1)
    indexing.reindex()
    db.session.execute(
        sa.update(Product).where(Product.id == product.id).values(stock=0, search_dirty=True)
    )
    db.session.commit()
    assert indexing.verify()["stale"] == [product.id]
    indexing.sync_dirty()
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}
    result = indexing.backend().search(SearchQuery(text="خرما", in_stock=True))
    assert result.ids == []


HOLD_WRITE_LOCK = textwrap.dedent(
    """
    import sys
    from whoosh.filedb.filestore import FileStorage
    lock = FileStorage(sys.argv[1]).lock("WRITE.lock")
    assert lock.acquire()
    print("locked", flush=True)
    sys.stdin.read()
    lock.release()
    """
)


def test_a_busy_writer_leaves_products_dirty_and_never_errors(synced_app, tmp_path) -> None:
    product = factories.product(title="حصیر برگ نخل")
    indexing.reindex()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(Path(synced_app.config["SEARCH_INDEX_DIR"]))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        client = synced_app.test_client()
        factories.login(client, product.seller.user.email)
        response = client.post(
            f"/seller/listings/{product.id}/quick", data={"price_toman": "90000", "stock": "4"}
        )
        assert response.status_code == 302  # the seller sees no error
        assert dirty_ids() == [product.id]  # and nothing is lost
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    result = synced_app.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert dirty_ids() == []
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}


WRITER = textwrap.dedent(
    """
    import sys, tempfile
    from pathlib import Path
    import sqlalchemy as sa
    from tests.conftest import settings
    from app import create_app
    from app.extensions import db
    from app.catalog import indexing
    from app.catalog.models import Product
    from app.db import begin_write
    url, index_dir, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    app = create_app(settings(Path(tempfile.mkdtemp()), SQLALCHEMY_DATABASE_URI=url, SEARCH_INDEX_DIR=index_dir))
    with app.app_context():
        for pid in range(first, last + 1):
            begin_write()  # read-then-write, as the app's services do
            product = db.session.get(Product, pid)
            product.title = f"نسخهٔ تازه {pid}"
            db.session.commit()
            indexing.sync_quietly()  # busy writers leave their rows dirty
    """
)


@pytest.mark.slow
def test_concurrent_writers_in_several_processes_lose_nothing(app) -> None:
    seller = factories.seller()
    category = factories.category()
    ids = [
        factories.product(seller, title=f"محصول {n}", category_row=category, with_image=False).id
        for n in range(24)
    ]
    indexing.reindex()
    index_dir = app.config["SEARCH_INDEX_DIR"]
    db.session.remove()
    chunks = [ids[i : i + 6] for i in range(0, len(ids), 6)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, DATABASE_URL, index_dir, str(c[0]), str(c[-1])],
            cwd=str(ROOT),
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in chunks
    ]
    outcomes = []
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        outcomes.append((proc.returncode, err))
    assert all(code == 0 for code, _ in outcomes), outcomes
    indexing.sync_dirty()
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}
    for pid in ids:
        assert pid in found(f"تازه {pid}")


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_a_broken_index_degrades_without_a_500_and_reindex_restores_it(app, client, damage) -> None:
    product = factories.product(title="ترشی انبهٔ چابهاری")
    indexing.reindex()
    index_dir = Path(app.config["SEARCH_INDEX_DIR"])
    indexing.backend().close()
    app.extensions.pop("bazarche_search", None)
    if damage == "delete":
        shutil.rmtree(index_dir)
    else:
        for path in index_dir.rglob("*"):
            if path.is_file() and path.name != "WRITE.lock":
                path.write_bytes(b"\x00garbage" * 10)
    response = client.get("/search?q=ترشی")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "ترشی انبهٔ چابهاری" in html  # answered from the database
    assert client.get("/search/suggest?q=تر").status_code == 200
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    app.extensions.pop("bazarche_search", None)
    assert found("انبه") == [product.id]
    assert app.test_cli_runner().invoke(args=["search", "verify"]).exit_code == 0


def test_verify_reports_missing_extra_and_stale(app) -> None:
    a = factories.product(title="گلیم دستباف")
    b = factories.product(title="پشتی گلیمی")
    indexing.reindex()
    c = factories.product(title="خورجین گلیمی")  # never indexed: missing
    db.session.execute(sa.update(Product).where(Product.id == a.id).values(price_amount=5))
    seller = db.session.get(type(b.seller), b.seller_id)
    seller.status = SellerStatus.SUSPENDED  # b no longer public: extra
    db.session.commit()
    report = indexing.verify()
    assert report == {"missing": [c.id], "extra": [b.id], "stale": [a.id]}
    result = app.test_cli_runner().invoke(args=["search", "verify"])
    assert result.exit_code == 1
    indexing.sync_dirty()  # the dirty rows (c, and b through its seller) are repaired
    assert indexing.verify() == {"missing": [], "extra": [], "stale": [a.id]}
    indexing.reindex()  # a change made behind the app's back needs a rebuild
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}

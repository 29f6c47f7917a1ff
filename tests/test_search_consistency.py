"""The index stays true to the database: sync after commit, busy writers, several processes,
a deleted or corrupted index, reindex and verify — on every search backend the suite can run
(the Whoosh one always, the PostgreSQL one when the suite runs on PostgreSQL)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.catalog import indexing
from app.catalog.models import Product, SellerStatus
from app.core.extensions import db
from app.search import IndexUnavailable, SearchQuery
from tests import factories
from tests.conftest import DATABASE_URL, close_search, make_app, running_app, settings
from tests.search.support import KINDS, search_cleanup

ROOT = Path(__file__).resolve().parents[1]


def _app_with(tmp_path: Path, kind: str, **extra: object) -> Iterator:
    """An app searching with the ``kind`` backend; the PostgreSQL backend's tables are
    dropped afterwards."""
    yield from running_app(tmp_path, search_cleanup(kind), SEARCH_BACKEND=kind, **extra)


@pytest.fixture(params=KINDS)
def search_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """An app on each backend."""
    yield from _app_with(tmp_path, request.param)


@pytest.fixture(params=KINDS)
def synced_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """An app on each backend that indexes after every request that changed the catalogue,
    as in production."""
    yield from _app_with(tmp_path, request.param, SEARCH_SYNC_ON_REQUEST=True)


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator:
    """An app searching with the PostgreSQL backend (used only when the suite runs on
    PostgreSQL)."""
    yield from _app_with(tmp_path, "postgres")


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


def test_a_checkout_style_stock_change_marks_the_product_dirty(search_app) -> None:
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


HOLD_WHOOSH_LOCK = textwrap.dedent(
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

HOLD_PG_REBUILD_LOCK = textwrap.dedent(
    """
    import sys
    import sqlalchemy as sa
    from app.search import PostgresBackend
    backend = PostgresBackend(sys.argv[1])
    with backend.engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": backend._lock_key})
        print("locked", flush=True)
        sys.stdin.read()
    backend.close()
    """
)


def hold_the_writer(app) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    """Another process holding what writers wait for: the Whoosh index's write lock, or the
    PostgreSQL backend's rebuild lock."""
    if app.config["SEARCH_BACKEND"] == "whoosh":
        script, where = HOLD_WHOOSH_LOCK, app.config["SEARCH_INDEX_DIR"]
    else:
        script, where = HOLD_PG_REBUILD_LOCK, DATABASE_URL
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(where)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.close()
    holder.wait(timeout=30)
    holder.stdout.close()


def test_a_busy_writer_leaves_products_dirty_and_never_errors(synced_app) -> None:
    product = factories.product(title="حصیر برگ نخل")
    indexing.reindex()
    holder = hold_the_writer(synced_app)
    try:
        client = synced_app.test_client()
        factories.login(client, product.seller.user.email)
        response = client.post(
            f"/seller/listings/{product.id}/quick", data={"price_toman": "90000", "stock": "4"}
        )
        assert response.status_code == 302  # the seller sees no error
        assert dirty_ids() == [product.id]  # and nothing is lost
        assert found("حصیر") == [product.id]  # searching still works
    finally:
        release(holder)
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
    from app.core.extensions import db
    from app.catalog import indexing
    from app.catalog.models import Product
    from app.core.db import begin_write
    url, kind, index_dir, first, last = sys.argv[1:4] + [int(a) for a in sys.argv[4:6]]
    app = create_app(settings(Path(tempfile.mkdtemp()), SQLALCHEMY_DATABASE_URI=url,
                              SEARCH_BACKEND=kind, SEARCH_INDEX_DIR=index_dir))
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
def test_concurrent_writers_in_several_processes_lose_nothing(search_app) -> None:
    seller = factories.seller()
    category = factories.category()
    ids = [
        factories.product(seller, title=f"محصول {n}", category_row=category, with_image=False).id
        for n in range(24)
    ]
    indexing.reindex()
    kind = search_app.config["SEARCH_BACKEND"]
    index_dir = search_app.config["SEARCH_INDEX_DIR"]
    db.session.remove()
    chunks = [ids[i : i + 6] for i in range(0, len(ids), 6)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, DATABASE_URL, kind, index_dir, str(c[0]), str(c[-1])],
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
    if kind == "postgres":
        assert dirty_ids() == []  # PostgreSQL takes every writer at once: nothing was left
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


def test_verify_reports_missing_extra_and_stale(search_app) -> None:
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
    result = search_app.test_cli_runner().invoke(args=["search", "verify"])
    assert result.exit_code == 1
    indexing.sync_dirty()  # the dirty rows (c, and b through its seller) are repaired
    assert indexing.verify() == {"missing": [], "extra": [], "stale": [a.id]}
    indexing.reindex()  # a change made behind the app's back needs a rebuild
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}


# --- the PostgreSQL backend in the app ----------------------------------------------------------


def test_postgres_backend_on_a_sqlite_database_degrades_to_database_search(tmp_path) -> None:
    from app import create_app
    from app.shop import cache

    cache.clear()
    if DATABASE_URL.startswith("sqlite"):
        sqlite_app = make_app(tmp_path)
    else:  # the suite runs on PostgreSQL: a SQLite database of the test's own
        url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
        sqlite_app = create_app(settings(tmp_path, SQLALCHEMY_DATABASE_URI=url))
        with sqlite_app.app_context():
            db.create_all()
    sqlite_app.config["SEARCH_BACKEND"] = "postgres"
    with sqlite_app.app_context():
        factories.product(title="گلیم دستباف")
        with pytest.raises(IndexUnavailable, match="needs a PostgreSQL database"):
            indexing.backend()
        client = sqlite_app.test_client()
        response = client.get("/search?q=گلیم")
        assert response.status_code == 200
        assert "گلیم دستباف" in response.get_data(as_text=True)  # from the database
        assert client.get("/api/v1/products?q=گلیم").get_json()["degraded"] is True
        indexing.sync_quietly()  # never raises: the products stay dirty
        assert dirty_ids() != []
        db.session.remove()
    close_search(sqlite_app)
    with sqlite_app.app_context():
        db.engine.dispose()


if DATABASE_URL.startswith("postgresql"):

    def test_postgres_backend_serves_the_search_page_and_the_api(pg_app) -> None:
        product = factories.product(title="ترشی انبهٔ چابهاری")
        factories.product(title="گلیم دستباف")
        result = pg_app.test_cli_runner().invoke(args=["search", "reindex"])
        assert result.exit_code == 0, result.output
        assert "2" in result.output
        client = pg_app.test_client()
        response = client.get("/search?q=انبه")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<mark>انبهٔ</mark>" in html  # highlighted by the index, not the fallback
        assert "simpler mode" not in html
        body = client.get("/api/v1/products?q=انبه").get_json()
        assert body["degraded"] is False
        assert [item["id"] for item in body["items"]] == [product.id]
        assert client.get("/api/v1/products?q=انبه&sort=bogus").status_code == 200
        suggestions = client.get("/api/v1/suggest?q=ترش").get_json()["suggestions"]
        assert "ترشی انبهٔ چابهاری" in suggestions

    def test_postgres_backend_through_the_search_commands(pg_app) -> None:
        runner = pg_app.test_cli_runner()
        product = factories.product(title="خرمای مضافتی")
        result = runner.invoke(args=["search", "verify"])
        assert result.exit_code == 1  # no tables yet
        assert "flask search reindex" in result.output
        assert runner.invoke(args=["search", "reindex"]).exit_code == 0
        assert runner.invoke(args=["search", "verify"]).exit_code == 0
        db.session.execute(
            sa.update(Product)
            .where(Product.id == product.id)
            .values(title="خرمای کلوته", search_dirty=True)
        )
        db.session.commit()
        assert runner.invoke(args=["search", "verify"]).exit_code == 1  # stale
        result = runner.invoke(args=["search", "sync"])
        assert result.exit_code == 0, result.output
        assert "Indexed 1" in result.output
        assert runner.invoke(args=["search", "verify"]).exit_code == 0
        assert found("کلوته") == [product.id]

    def test_postgres_backend_dropped_table_degrades_and_reindex_restores_it(pg_app) -> None:
        client = pg_app.test_client()
        product = factories.product(title="ترشی انبهٔ چابهاری")
        indexing.reindex()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE search.document"))
        response = client.get("/search?q=ترشی")
        assert response.status_code == 200
        assert "ترشی انبهٔ چابهاری" in response.get_data(as_text=True)  # from the database
        assert client.get("/search/suggest?q=تر").status_code == 200
        result = pg_app.test_cli_runner().invoke(args=["search", "reindex"])
        assert result.exit_code == 0, result.output
        assert found("انبه") == [product.id]


def test_an_older_copy_written_after_a_newer_one_leaves_the_product_dirty(search_app) -> None:
    """Two syncs of the same product: the one that read it first writes its copy last. That
    copy is stale, so the product must stay dirty (and the next sync fixes the index)."""
    product = factories.product(title="کوزه سفالی")
    indexing.reindex()
    engine = indexing.backend()
    real_index = engine.index
    calls = {"n": 0}

    def slow_first_writer(docs, **options):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            # While this sync holds its (older) copy, the seller edits again and another
            # sync indexes the newer copy and clears the flag.
            db.session.execute(
                sa.update(Product)
                .where(Product.id == product.id)
                .values(title="گلدان سفالی", search_dirty=True)
            )
            db.session.commit()
            indexing.sync_dirty()
        return real_index(docs, **options)

    db.session.execute(
        sa.update(Product)
        .where(Product.id == product.id)
        .values(title="کاسه سفالی", search_dirty=True)
    )
    db.session.commit()
    engine.index = slow_first_writer  # type: ignore[method-assign]
    try:
        indexing.sync_dirty(limit=1)
    finally:
        engine.index = real_index  # type: ignore[method-assign]
    assert calls["n"] == 2
    assert found("کاسه") == [product.id]  # the older copy won the race in the index…
    assert dirty_ids() == [product.id]  # …but the product is still marked for the next sync
    indexing.sync_dirty()
    assert found("گلدان") == [product.id] and found("کاسه") == []
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}

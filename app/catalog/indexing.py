"""Keeping the search index true to the database.

The database is the source of truth. Every change that search shows marks the product
``search_dirty`` in the same transaction (app/catalog/changes.py). After the commit, whoever can
take the index writer indexes the dirty rows; a worker that cannot take it leaves them dirty
(never an error to the user, never a lost update), and ``flask search sync`` drains the rest.
A row's flag is cleared only if the row has not changed since it was read (``updated_at``), so a
change that lands while the index is being written stays dirty for the next sync.

An index that cannot be trusted — marked degraded after a write failed (whatever the backend
raised), lost (missing), or holding far fewer products than the database's public ones with no
dirty rows to explain the gap — is never written to: searches answer from the database with
their notice (:func:`index_problem`), the sync after a web request leaves its products dirty and
starts a rebuild in a background thread of its process (:func:`repair_in_background`: one at a
time, at most once every ``SEARCH_REBUILD_RETRY_SECONDS``; a rebuild running in another process
holds the index writer, so this one gives way), and ``flask search sync`` rebuilds it too. A
rebuild builds the new index aside and swaps it in. A sync never creates an empty index in place
of a lost one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import joinedload

from app.catalog.models import (
    Category,
    Product,
    ProductOption,
    ProductStatus,
    ProductVariant,
    Seller,
    SellerStatus,
)
from app.core.db import end_read, transaction
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.search import IndexBusy, IndexUnavailable, SearchBackend, SearchDoc, doc_stamp

log = logging.getLogger(__name__)
BATCH = 500
CHECK_SECONDS = 10.0
"""How long a process trusts its last count check (``SEARCH_CHECK_SECONDS`` overrides)."""
LOST_SHARE = 0.9
"""An index with fewer documents than this share of the public products (and a gap larger
than the dirty rows waiting for a sync) has lost products: it is treated as degraded."""
_CHECK = "bazarche_search_check"
REBUILD_RETRY_SECONDS = 300.0
"""How long a process waits before it tries another background rebuild after one (whatever its
outcome); ``SEARCH_REBUILD_RETRY_SECONDS`` overrides."""
_REBUILD = "bazarche_search_rebuild"
_rebuild_lock = threading.Lock()


def backend() -> SearchBackend:
    """The configured backend, one per app (it keeps its readers open between queries)."""
    ext = current_app.extensions
    found = ext.get("bazarche_search")
    if found is None:
        kind = current_app.config["SEARCH_BACKEND"]
        # An unusable setting raises IndexUnavailable: the search page then answers from the
        # database (with a notice) and the sync leaves products dirty, rather than failing.
        if kind == "whoosh":
            from app.search import WhooshBackend

            found = WhooshBackend(current_app.config["SEARCH_INDEX_DIR"])
        elif kind == "postgres":
            if db.engine.dialect.name != "postgresql":
                raise IndexUnavailable(
                    "SEARCH_BACKEND=postgres needs a PostgreSQL database (DATABASE_URL); "
                    f"this one is {db.engine.dialect.name}"
                )
            from app.search import PostgresBackend

            found = PostgresBackend(db.engine)
        else:
            raise IndexUnavailable(f"search backend {kind!r} is not available")
        ext["bazarche_search"] = found
    return found


def _category_paths() -> dict[int, tuple[list[int], str, str]]:
    """category id → (ids from the category up to the root, Persian path, English path)."""
    cats = {c.id: c for c in db.session.scalars(sa.select(Category))}
    out: dict[int, tuple[list[int], str, str]] = {}
    for cat_id in cats:
        chain: list[Category] = []
        seen: set[int] = set()
        node = cats.get(cat_id)
        while node is not None and node.id not in seen:
            chain.append(node)
            seen.add(node.id)
            node = cats.get(node.parent_id) if node.parent_id else None
        names = list(reversed(chain))
        out[cat_id] = (
            [c.id for c in chain],
            " > ".join(c.name_fa for c in names),
            " > ".join(c.name_en for c in names),
        )
    return out


def option_pairs(product_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """product id → the ``(option name, value)`` pairs of its offered (active) variants, in
    stock or not, in the options' and variants' order; products without options are left
    out. Two queries for any number of products."""
    if not product_ids:
        return {}
    names: dict[int, dict[int, str]] = {}
    for option in db.session.scalars(
        sa.select(ProductOption)
        .where(ProductOption.product_id.in_(product_ids))
        .order_by(ProductOption.product_id, ProductOption.position)
    ):
        names.setdefault(option.product_id, {})[option.position] = option.name
    if not names:
        return {}
    out: dict[int, dict[tuple[str, str], None]] = {}
    rows = db.session.execute(
        sa.select(
            ProductVariant.product_id,
            ProductVariant.value1,
            ProductVariant.value2,
            ProductVariant.value3,
        )
        .where(ProductVariant.product_id.in_(list(names)), ProductVariant.active.is_(True))
        .order_by(ProductVariant.product_id, ProductVariant.position, ProductVariant.id)
    )
    for pid, *values in rows:
        own = names[pid]
        pairs = out.setdefault(pid, {})
        for position, value in enumerate(values):
            if value and position in own:
                pairs[(own[position], value)] = None
    # option by option, each option's values in the order first offered
    result: dict[int, list[tuple[str, str]]] = {}
    for pid, pairs in out.items():
        order = list(names[pid].values())
        result[pid] = sorted(pairs, key=lambda pair: order.index(pair[0]))  # noqa: B023
    return result


def doc_for(
    product: Product,
    paths: dict[int, tuple[list[int], str, str]],
    options: dict[int, list[tuple[str, str]]] | None = None,
) -> SearchDoc:
    """``product`` as the index sees it; ``options`` from :func:`option_pairs` (a product with
    options but none given is indexed without them)."""
    ids, path_fa, path_en = paths.get(product.category_id or -1, ([], "", ""))
    seller = product.seller
    return SearchDoc(
        id=product.id,
        title=product.title,
        description=product.description,
        category_path=path_fa,
        category_ids=list(ids),
        seller_name=seller.display_name,
        seller_slug=seller.slug,
        county=seller.county.slug,
        sector=seller.sector.slug,
        # The price now (sale or campaign): sorting and price filters read it. It changes at
        # market-day boundaries, when campaigns.mark_price_boundaries marks the listings dirty.
        price_amount=product.effective_price,
        created_at=product.created_at,
        in_stock=product.stock > 0,
        title_en=product.title_en or "",
        category_path_en=path_en,
        options=list((options or {}).get(product.id, ())) if product.has_variants else [],
    )


def _is_public(product: Product) -> bool:
    return (
        product.status == ProductStatus.PUBLISHED and product.seller.status == SellerStatus.APPROVED
    )


def _load(ids: list[int]) -> list[Product]:
    return list(
        db.session.scalars(
            sa.select(Product)
            .where(Product.id.in_(ids))
            .options(
                joinedload(Product.seller).joinedload(Seller.county),
                joinedload(Product.seller).joinedload(Seller.sector),
            )
        ).unique()
    )


def sync_dirty(limit: int | None = None, repair: bool = True) -> tuple[int, int]:
    """Index or remove dirty products; returns (indexed, removed). Raises IndexBusy.

    When the index cannot be trusted (:func:`index_problem`), or a write to it fails with any
    error (the index is then marked degraded), nothing more is written to it: with ``repair``
    (``flask search sync``) it is rebuilt from the database and swapped in (returning
    ``(products indexed, 0)``); without (after a web request, where a rebuild is too slow) this
    raises :class:`IndexUnavailable` and every unsynced product stays dirty.
    """
    engine = backend()
    if repair:
        forget_index_check()
    problem = index_problem()
    if problem is None:
        try:
            return _sync_batches(engine, limit)
        except IndexUnavailable as exc:
            db.session.rollback()
            forget_index_check()
            if not repair:
                raise
            problem = str(exc)
    elif not repair:
        raise IndexUnavailable(problem)
    log.warning("search: %s; rebuilding the index from the database", problem)
    return reindex(), 0


def _write(engine: SearchBackend, call: Callable[[list], None], items: list) -> None:
    """One write to the index; any failure but a busy writer marks the index degraded."""
    try:
        call(items)
    except IndexBusy:
        raise
    except Exception as exc:
        reason = f"writing to the index failed: {exc!r}"
        log.error("search: %s; the index is marked degraded", reason, exc_info=exc)
        engine.mark_degraded(reason)
        raise IndexUnavailable(reason) from exc


def _sync_batches(engine: SearchBackend, limit: int | None) -> tuple[int, int]:
    indexed = removed = 0
    paths: dict[int, tuple[list[int], str, str]] | None = None
    while True:
        batch = BATCH if limit is None else min(BATCH, limit - indexed - removed)
        if batch <= 0:
            break
        rows = db.session.execute(
            sa.select(Product.id, Product.updated_at)
            .where(Product.search_dirty.is_(True))
            .order_by(Product.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        seen = {pid: stamp for pid, stamp in rows}
        products = {p.id: p for p in _load(list(seen))}
        paths = paths or _category_paths()
        opts = option_pairs([p.id for p in products.values() if p.has_variants])
        docs = [doc_for(p, paths, opts) for p in products.values() if _is_public(p)]
        gone = [pid for pid in seen if pid not in products or not _is_public(products[pid])]
        end_read()  # hold no lock during the (slow) index write
        if docs:
            # never create an index here: a lost one is rebuilt, not replaced by an empty one
            _write(engine, lambda d: engine.index(d, create=False), docs)
        if gone:
            _write(engine, engine.remove, gone)
        with transaction():
            _clear_flags(seen)
        indexed += len(docs)
        removed += len(gone)
        if len(rows) < batch:
            break
    # Deleted products leave no row to be dirty: the caller passes their ids to remove_deleted.
    return indexed, removed


def _clear_flags(seen: dict[int, datetime]) -> None:
    """Clear the dirty flag of each indexed row still as it was read (``seen``: id → its
    ``updated_at`` then)."""
    for pid, stamp in seen.items():
        db.session.execute(
            sa.update(Product)
            .where(Product.id == pid, Product.updated_at == stamp)
            .values(search_dirty=False, updated_at=stamp)
            .execution_options(synchronize_session=False)
        )
    # A row that changed since it was read may have been indexed, and its flag cleared, by a
    # concurrent sync that finished before this one wrote its older copy. Mark it dirty again
    # with a new ``updated_at``, so no such sync can clear it, and the next sync writes the
    # current row.
    now_stamps = db.session.execute(
        sa.select(Product.id, Product.updated_at).where(Product.id.in_(list(seen)))
    ).all()
    for pid, current in now_stamps:
        if current != seen[pid]:
            db.session.execute(
                sa.update(Product)
                .where(Product.id == pid, Product.updated_at == current)
                .values(search_dirty=True, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )


def remove_deleted(ids: list[int]) -> None:
    """After a product row is deleted. Never raises: if the writer is busy, ``verify`` and
    ``reindex`` repair it; if the removal fails otherwise, the index is marked degraded (search
    answers from the database until ``flask search sync`` rebuilds it)."""
    try:
        engine = backend()
        if index_problem() is None:
            _write(engine, engine.remove, list(ids))
    except Exception as exc:
        log.warning("search: could not remove deleted products %s now: %s", ids, exc)
    forget_index_check()


def sync_quietly() -> None:
    """The after-commit hook of web requests (and of anything else that must not fail
    because of the index): index what is dirty if the writer is free and the index can be
    trusted. Never raises: whatever fails, the products stay dirty, the failure is logged and
    searches answer from the database until the index is repaired."""
    try:
        sync_dirty(limit=BATCH, repair=False)
    except IndexBusy:
        _rollback()
        log.info("search: index busy; dirty products stay for the next sync")
    except Exception as exc:
        _rollback()
        forget_index_check()
        log.warning("search: sync failed, products stay dirty: %s", exc)
        repair_in_background()


def repair_in_background() -> threading.Thread | None:
    """If the index cannot be trusted, rebuild it from the database in a thread of this
    process, so search comes back without anyone running a command. Returns the thread it
    started, or ``None``: the index is fine, background rebuilds are off
    (``SEARCH_REBUILD_IN_BACKGROUND``), one is running here, or one started less than
    ``SEARCH_REBUILD_RETRY_SECONDS`` ago. Never raises. Meanwhile searches answer from the
    database; a rebuild already running in another process holds the index writer, and this
    one then gives way (its products stay dirty for the next sync)."""
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if not app.config.get("SEARCH_REBUILD_IN_BACKGROUND", True):
            return None
        retry = float(app.config.get("SEARCH_REBUILD_RETRY_SECONDS", REBUILD_RETRY_SECONDS))
        with _rebuild_lock:
            state = app.extensions.setdefault(_REBUILD, {"thread": None, "at": None})
            running = state["thread"] is not None and state["thread"].is_alive()
            recent = state["at"] is not None and time.monotonic() - state["at"] < retry
            if running or recent:
                return None
            if index_problem() is None:
                return None
            thread = threading.Thread(
                target=_rebuild_thread, args=(app,), name="search-rebuild", daemon=True
            )
            state["thread"], state["at"] = thread, time.monotonic()
            thread.start()
            return thread
    except Exception as exc:
        log.warning("search: could not start a background rebuild: %s", exc)
        return None


def _rebuild_thread(app: Flask) -> None:
    with app.app_context():
        try:
            indexed, _ = sync_dirty(repair=True)
            log.info("search: background repair done, %d products indexed", indexed)
        except IndexBusy:
            log.info("search: another process is writing the index; background repair skipped")
        except Exception as exc:
            log.error("search: background rebuild failed: %s", exc, exc_info=exc)
        finally:
            _rollback()
            db.session.remove()


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception as exc:
        log.warning("search: rollback after a failed sync failed too: %s", exc)


def forget_index_check() -> None:
    """Make the next :func:`index_problem` in this process count again (after this process
    wrote to or rebuilt the index; other processes notice within ``CHECK_SECONDS``)."""
    current_app.extensions.pop(_CHECK, None)


def index_problem() -> str | None:
    """Why the index cannot be trusted now (so search answers from the database and syncs do
    not write to it), or ``None``: the backend is unusable, the index is marked degraded,
    missing or broken, or it holds fewer than :data:`LOST_SHARE` of the public products with
    more missing than the dirty rows waiting for a sync (it lost products). The mark is read
    on every call; the counts at most every ``CHECK_SECONDS`` per process."""
    try:
        engine = backend()
        marked = engine.degraded()
    except Exception as exc:
        return f"the search backend is unusable: {exc}"
    if marked:
        return f"the index is marked degraded ({marked})"
    ttl = float(current_app.config.get("SEARCH_CHECK_SECONDS", CHECK_SECONDS))
    now = time.monotonic()
    cached = current_app.extensions.get(_CHECK)
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    problem = _count_problem(engine)
    current_app.extensions[_CHECK] = (now, problem)
    return problem


def _count_problem(engine: SearchBackend) -> str | None:
    health = engine.health()
    if not health.get("ok"):
        return f"the index is unavailable: {health.get('error')}"
    indexed = int(health.get("docs") or 0)  # type: ignore[call-overload]
    public = db.session.scalar(
        sa.select(sa.func.count(Product.id))
        .join(Seller, Seller.id == Product.seller_id)
        .where(Product.status == ProductStatus.PUBLISHED, Seller.status == SellerStatus.APPROVED)
    )
    public = int(public or 0)
    if indexed >= LOST_SHARE * public:
        return None
    dirty = int(
        db.session.scalar(
            sa.select(sa.func.count(Product.id)).where(Product.search_dirty.is_(True))
        )
        or 0
    )
    if public - indexed > dirty:
        return (
            f"the index holds {indexed} products but the database has {public} public ones "
            f"and only {dirty} waiting for a sync"
        )
    return None


def public_docs() -> Iterator[SearchDoc]:
    """Every public product as a SearchDoc (for reindex and verify), streamed in batches."""
    paths = _category_paths()
    last = 0
    while True:
        ids = list(
            db.session.scalars(
                sa.select(Product.id)
                .join(Seller, Seller.id == Product.seller_id)
                .where(
                    Product.id > last,
                    Product.status == ProductStatus.PUBLISHED,
                    Seller.status == SellerStatus.APPROVED,
                )
                .order_by(Product.id)
                .limit(BATCH)
            )
        )
        if not ids:
            return
        products = sorted(_load(ids), key=lambda p: p.id)
        opts = option_pairs([p.id for p in products if p.has_variants])
        for product in products:
            yield doc_for(product, paths, opts)
        last = ids[-1]


def reindex() -> int:
    """Rebuild the whole index from the database and swap it in; clears every dirty flag that
    has not changed since the rebuild started."""
    started = db.session.scalar(sa.select(sa.func.max(Product.updated_at)))
    try:
        count = backend().rebuild(public_docs())
    finally:
        forget_index_check()
    stmt = sa.update(Product).where(Product.search_dirty.is_(True))
    if started is not None:
        stmt = stmt.where(Product.updated_at <= started)
    # The build only read: this transaction writes (SQLite takes the lock when it begins).
    with transaction():
        db.session.execute(
            stmt.values(search_dirty=False, updated_at=Product.updated_at).execution_options(
                synchronize_session=False
            )
        )
    log.info("search: index rebuilt from the database, %d products indexed", count)
    return count


def verify() -> dict[str, list[int]]:
    """Compare the index with the database: ids missing from the index, extra in it, or stale."""
    indexed = backend().all_ids_with_stamp()
    expected = {doc.id: doc_stamp(doc) for doc in public_docs()}
    return {
        "missing": sorted(set(expected) - set(indexed)),
        "extra": sorted(set(indexed) - set(expected)),
        "stale": sorted(i for i in set(expected) & set(indexed) if expected[i] != indexed[i]),
    }

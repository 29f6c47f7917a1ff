"""Sales report benchmark on PostgreSQL: summary rows against a plain GROUP BY.

Builds a market of 2,500 approved sellers, 100,000 products and 1,000,000 order lines over two
Jalali years (1403 and 1404; card and cash orders in every state, plus offline sales), loads it
with COPY, builds the summary rows with the service ``flask reports rebuild`` uses, and times, in
the same run:

- the per-seller report for one year (1404) through ``reports.seller_sales`` (every seller, and
  the first page as the staff page shows it, through the real page too) against
  ``plain.plain_seller_sales``, a plain GROUP BY over the order lines;
- the county-by-month roll-up for both years through ``reports.county_monthly`` against
  ``plain.plain_county_monthly``;
- the impact figures of every seller (``impact.seller_impacts``, from the summary rows; their
  sales checked against the plain GROUP BY of the whole span) and the staff page
  ``/admin/impact``;
- a county officer's per-seller report (the service with the scope of the county with the most
  sellers, checked against the plain GROUP BY's rows of that county's sellers) and their staff
  page.

Both sides must give identical numbers (checked for every seller and every county-month). The
line ``province ratio: N`` is the province's per-seller report time / plain GROUP BY time; the
last line is ``ratio: N`` = the county officer's report time / the same plain GROUP BY time
(the report with scoping on; goal ≤ 0.2).

    python bench/reports.py [--scale 1.0] [--repeat 5] [--url postgresql://postgres@127.0.0.1/…]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1/bazarche_bench_reports"
STATUSES_CARD = [("paid", 10), ("shipped", 15), ("delivered", 55), ("cancelled", 6),
                 ("refunded", 4), ("awaiting_payment", 2)]  # fmt: skip
STATUSES_CASH = [("delivered", 70), ("placed", 5), ("confirmed", 5), ("shipped", 8),
                 ("cancelled", 10), ("refunded", 2)]  # fmt: skip


def weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([s for s, _ in table], [w for _, w in table])[0]


def recreate_database(url: str) -> None:
    server = sa.engine.make_url(url)
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{server.database}"')
    admin.dispose()


def copy_rows(raw, table: str, columns: list[str], rows) -> int:  # type: ignore[no-untyped-def]
    n = 0
    with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def generate(raw, scale: float, seed: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Write the market with COPY; returns how many rows of each kind."""
    from app.program.calendar import jalali_month_start

    rng = random.Random(seed)
    sellers = max(10, int(2_500 * scale))
    products = max(50, int(100_000 * scale))
    target_lines = max(500, int(1_000_000 * scale))
    customers = max(50, int(60_000 * scale))
    counties, sectors, categories = 30, 6, 40
    now = datetime(2026, 3, 1, tzinfo=UTC)
    start = datetime.combine(jalali_month_start(1403, 1), datetime.min.time(), tzinfo=UTC)
    span = (
        datetime.combine(jalali_month_start(1405, 1), datetime.min.time(), tzinfo=UTC) - start
    ).total_seconds()

    copy_rows(raw, "province", ["id", "slug", "name_fa", "name_en"], [(1, "p", "استان", "P")])
    copy_rows(
        raw,
        "county",
        ["id", "province_id", "slug", "name_fa", "name_en"],
        [(i, 1, f"c{i}", f"شهرستان {i}", f"County {i}") for i in range(1, counties + 1)],
    )
    copy_rows(
        raw,
        "sector",
        ["id", "slug", "name_fa", "name_en"],
        [(i, f"s{i}", f"بخش {i}", f"Sector {i}") for i in range(1, sectors + 1)],
    )
    copy_rows(
        raw,
        "category",
        ["id", "parent_id", "slug", "name_fa", "name_en", "position"],
        [(i, None, f"k{i}", f"دسته {i}", f"Category {i}", i) for i in range(1, categories + 1)],
    )
    user_cols = ["id", "email", "password_hash", "name", "locale", "role", "active",
                 "session_version", "created_at"]  # fmt: skip
    users = sellers + customers + 1
    copy_rows(
        raw,
        "user",
        user_cols,
        (
            (i, f"u{i}@example.com", "x", f"کاربر {i}", "fa",
             "staff" if i == users else ("seller" if i <= sellers else "customer"), True, 1, now)
            for i in range(1, users + 1)
        ),
    )  # fmt: skip
    copy_rows(
        raw,
        "seller",
        ["id", "user_id", "slug", "display_name", "bio", "county_id", "sector_id",
         "registration_code", "training_completed_on", "status", "created_at", "updated_at",
         "approved_at"],
        (
            (i, i, f"seller-{i}", f"کارگاه {i}", "", rng.randint(1, counties),
             rng.randint(1, sectors), f"HB-{i:06d}",
             (start - timedelta(days=rng.randint(0, 700))).date(), "approved", now, now,
             start - timedelta(days=rng.randint(0, 60)))
            for i in range(1, sellers + 1)
        ),
    )  # fmt: skip
    product_seller = [rng.randint(1, sellers) for _ in range(products)]
    product_price = [rng.randint(5, 500) * 10_000 for _ in range(products)]
    product_category = [rng.randint(1, categories) for _ in range(products)]
    copy_rows(
        raw,
        "product",
        ["id", "seller_id", "category_id", "title", "description", "price_amount", "stock",
         "status", "featured", "search_dirty", "created_at", "updated_at"],
        (
            (i + 1, product_seller[i], product_category[i], f"محصول {i + 1}", "",
             product_price[i], 100, "published", False, False, now, now)
            for i in range(products)
        ),
    )  # fmt: skip
    by_seller: dict[int, list[int]] = {}
    for i, s in enumerate(product_seller):
        by_seller.setdefault(s, []).append(i)
    seller_ids = sorted(by_seller)

    orders: list[tuple] = []
    lines: list[tuple] = []
    payments: list[tuple] = []
    line_id = 0
    order_id = 0
    while line_id < target_lines:
        order_id += 1
        seller = rng.choice(seller_ids)
        customer = sellers + rng.randint(1, customers)
        cash = rng.random() < 0.3
        status = weighted(rng, STATUSES_CASH if cash else STATUSES_CARD)
        created = start + timedelta(seconds=rng.random() * span)
        if cash:
            paid = created + timedelta(days=rng.randint(2, 9)) if status in (
                "delivered", "refunded") else None  # fmt: skip
        else:
            paid = (
                created + timedelta(minutes=rng.randint(1, 30))
                if status not in ("awaiting_payment",) and not (
                    status == "cancelled" and rng.random() < 0.5)
                else None
            )  # fmt: skip
        total = 0
        for _ in range(rng.choice((1, 1, 2, 2, 3, 3, 4, 4, 5))):
            p = rng.choice(by_seller[seller])
            qty = rng.randint(1, 4)
            line_id += 1
            total += product_price[p] * qty
            lines.append(
                (line_id, order_id, p + 1, f"محصول {p + 1}", f"کارگاه {seller}",
                 product_category[p], product_price[p], qty, product_price[p] * qty)
            )  # fmt: skip
        payments.append(
            (order_id, customer, "cash" if cash else "stripe", "succeeded", total, "IRR",
             f"t{order_id}", created, created)
        )  # fmt: skip
        orders.append(
            (order_id, order_id, customer, seller, status, "IRR", total, 0, total, "گیرنده",
             "09120000000", "استان", "شهر", "نشانی", "1234567890",
             status in ("cancelled", "refunded"), created, paid or created, paid)
        )  # fmt: skip
    copy_rows(
        raw,
        "payment",
        ["id", "customer_id", "provider", "status", "amount", "currency", "checkout_token",
         "created_at", "updated_at"],
        payments,
    )  # fmt: skip
    copy_rows(
        raw,
        "shop_order",
        ["id", "payment_id", "customer_id", "seller_id", "status", "currency",
         "subtotal_amount", "shipping_amount", "total_amount", "recipient_name", "mobile",
         "province", "city", "address", "postal_code", "stock_released", "created_at",
         "updated_at", "paid_at"],
        orders,
    )  # fmt: skip
    copy_rows(
        raw,
        "order_line",
        ["id", "order_id", "product_id", "product_title", "seller_name", "category_id",
         "unit_price_amount", "quantity", "line_total_amount"],
        lines,
    )  # fmt: skip
    offline = max(5, int(10_000 * scale))
    sale_rows, sale_lines = [], []
    offline_line = 0
    for sale_id in range(1, offline + 1):
        seller = rng.choice(seller_ids)
        amount = 0
        for _ in range(rng.randint(1, 3)):
            p = rng.choice(by_seller[seller])
            qty = rng.randint(1, 6)
            offline_line += 1
            amount += product_price[p] * qty
            sale_lines.append(
                (offline_line, sale_id, p + 1, f"محصول {p + 1}", product_category[p], qty,
                 product_price[p] * qty)
            )  # fmt: skip
        day = (start + timedelta(seconds=rng.random() * span)).date()
        sale_rows.append((sale_id, seller, day, "نمایشگاه", amount, "", False, now))
    copy_rows(
        raw,
        "offline_sale",
        ["id", "seller_id", "sold_on", "place", "amount", "note", "took_stock", "created_at"],
        sale_rows,
    )
    copy_rows(
        raw,
        "offline_sale_line",
        ["id", "sale_id", "product_id", "title", "category_id", "quantity", "amount"],
        sale_lines,
    )
    with raw.cursor() as cur:
        for table, top in (
            ("user", users),
            ("seller", sellers),
            ("product", products),
            ("payment", order_id),
            ("shop_order", order_id),
            ("order_line", line_id),
            ("offline_sale", offline),
            ("offline_sale_line", offline_line),
            ("county", counties),
            ("sector", sectors),
            ("category", categories),
            ("province", 1),
        ):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), {top})")
    # fmt: skip
    raw.commit()
    return {"sellers": sellers, "products": products, "orders": order_id, "lines": line_id,
            "offline_sales": offline, "staff_user": users}  # fmt: skip


def reused_counts() -> dict[str, int]:
    from app.core.extensions import db

    def count(table: str) -> int:
        return int(db.session.scalar(sa.text(f'SELECT count(*) FROM "{table}"')) or 0)

    staff = db.session.scalar(sa.text("SELECT max(id) FROM \"user\" WHERE role = 'staff'"))
    return {"sellers": count("seller"), "products": count("product"),
            "orders": count("shop_order"), "lines": count("order_line"),
            "offline_sales": count("offline_sale"), "staff_user": int(staff)}  # fmt: skip


def timed(fn, repeat: int):  # type: ignore[no-untyped-def]
    """(median seconds, last result) over ``repeat`` runs after one warm-up."""
    result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1404)
    parser.add_argument(
        "--reuse", action="store_true", help="Time again on the data of the last run."
    )
    parser.add_argument("--url", default=os.environ.get("BENCH_REPORTS_URL", DEFAULT_URL))
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when the output is a file
    url = args.url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]

    import tempfile

    from app import create_app
    from app.core.extensions import db
    from app.program import calendar, impact, rebuild, reports
    from app.program.plain import plain_county_monthly, plain_seller_sales

    if not args.reuse:
        recreate_database(url)
    tmp = tempfile.mkdtemp(prefix="bazarche-bench-reports-")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_DIR": tmp,
         "MEDIA_DIR": tmp + "/media", "SEARCH_INDEX_DIR": tmp + "/search",
         "MAIL_DIR": tmp + "/mail", "RATELIMIT_ENABLED": False,
         "SEARCH_SYNC_ON_REQUEST": False,
         "SITE_URL": "http://localhost"}  # the test client's host
    )  # fmt: skip
    with app.app_context():
        if args.reuse:
            counts = reused_counts()
            print("data: reused from the last run")
        else:
            db.create_all()
            t0 = time.perf_counter()
            raw = db.engine.raw_connection()
            try:
                counts = generate(raw.driver_connection, args.scale, args.seed)
            finally:
                raw.close()
            print(
                f"data: {counts['sellers']:,} sellers, {counts['products']:,} products, "
                f"{counts['orders']:,} orders, {counts['lines']:,} order lines, "
                f"{counts['offline_sales']:,} offline sales ({time.perf_counter() - t0:.1f} s)"
            )
            t0 = time.perf_counter()
            built = rebuild.rebuild()
            print(
                f"summary rows rebuilt in {time.perf_counter() - t0:.1f} s: {built['orders']:,} "
                f"counted orders, {built['daily']:,} daily rows, {built['products']:,} product rows"
            )
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")

        year = calendar.Period.jalali_year(1404)
        two_years = calendar.Period.custom(
            calendar.jalali_month_start(1403, 1),
            calendar.jalali_month_start(1405, 1) - timedelta(1),
        )

        def ours_all():  # type: ignore[no-untyped-def]
            page = reports.seller_sales(year, page=None)
            db.session.rollback()
            return page

        def ours_page():  # type: ignore[no-untyped-def]
            page = reports.seller_sales(year, page=1, per_page=50)
            db.session.rollback()
            return page

        def plain():  # type: ignore[no-untyped-def]
            out = plain_seller_sales(year)
            db.session.rollback()
            return out

        t_ours, page = timed(ours_all, args.repeat)
        t_first, _ = timed(ours_page, args.repeat)
        t_plain, plain_rows = timed(plain, args.repeat)
        zero = {"card_amount": 0, "cash_amount": 0, "offline_amount": 0, "total_amount": 0,
                "orders": 0, "units": 0, "buyers": 0, "repeat_buyers": 0, "first_sale": None,
                "last_sale": None}  # fmt: skip
        mismatches = 0
        for row in page.items:
            got = {k: getattr(row, k) for k in zero}
            if got != plain_rows.get(row.seller_id, zero):
                mismatches += 1
        if len(page.items) != counts["sellers"]:
            mismatches += 1
        print(
            f"per-seller report, year 1404, {len(page.items):,} sellers: service "
            f"{t_ours * 1000:.1f} ms (first page of 50: {t_first * 1000:.1f} ms), plain GROUP BY "
            f"{t_plain * 1000:.1f} ms; identical: {'yes' if mismatches == 0 else 'NO'}"
        )

        def ours_county():  # type: ignore[no-untyped-def]
            out = reports.county_monthly(two_years)
            db.session.rollback()
            return out

        def plain_county():  # type: ignore[no-untyped-def]
            out = plain_county_monthly(two_years)
            db.session.rollback()
            return out

        t_c_ours, county_ours = timed(ours_county, args.repeat)
        t_c_plain, county_plain = timed(plain_county, args.repeat)
        same_county = county_ours == county_plain
        print(
            f"county-by-month roll-up, 1403–1404, {len(county_ours):,} county-months: service "
            f"{t_c_ours * 1000:.1f} ms, plain GROUP BY {t_c_plain * 1000:.1f} ms; identical: "
            f"{'yes' if same_county else 'NO'}"
        )

        # The staff page itself, as a logged-in staff member sees it.
        from app.accounts.models import User
        from app.accounts.sessions import open_login

        staff = db.session.get(User, counts["staff_user"])
        open_login(staff)  # a cookie logs in only while its login row is open
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = staff.get_id()
            sess["_fresh"] = True
        db.session.rollback()

        def page_hit():  # type: ignore[no-untyped-def]
            response = client.get("/admin/sales?period=year&y=1404")
            assert response.status_code == 200, response.status_code
            return response

        t_http, _ = timed(page_hit, args.repeat)
        print(f"staff page /admin/sales (year 1404, page 1): {t_http * 1000:.1f} ms")

        # The impact figures (every seller since approval, from the summary rows) against the
        # sales of a plain GROUP BY over the order lines of the whole span, and the page itself.
        def ours_impact():  # type: ignore[no-untyped-def]
            out = impact.seller_impacts()
            db.session.rollback()
            return out

        t_impact, impact_rows = timed(ours_impact, args.repeat)
        # Cash orders placed at the end of 1404 are paid (so counted) early in 1405.
        everything = calendar.Period.custom(
            calendar.jalali_month_start(1403, 1),
            calendar.jalali_month_start(1406, 1) - timedelta(1),
        )
        plain_all = plain_seller_sales(everything)
        db.session.rollback()
        impact_mismatches = sum(
            1 for s in impact_rows if s.sales != plain_all.get(s.seller_id, zero)["total_amount"]
        ) + (len(impact_rows) != counts["sellers"])

        def impact_hit():  # type: ignore[no-untyped-def]
            response = client.get("/admin/impact?by=county")
            assert response.status_code == 200, response.status_code
            return response

        t_impact_http, _ = timed(impact_hit, args.repeat)
        print(
            f"impact figures, {len(impact_rows):,} sellers: service {t_impact * 1000:.1f} ms; "
            f"sales identical to the plain GROUP BY: {'yes' if not impact_mismatches else 'NO'}; "
            f"staff page /admin/impact (by county): {t_impact_http * 1000:.1f} ms"
        )
        mismatches += impact_mismatches

        # A county officer: the same report with their county's scope, and their page.
        import sqlalchemy as sa

        from app.catalog.models import Seller, StaffScope
        from app.catalog.scope import Scope

        county_id, county_sellers = db.session.execute(
            sa.select(Seller.county_id, sa.func.count())
            .group_by(Seller.county_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).one()
        scope = Scope(county_id=county_id)

        def ours_officer():  # type: ignore[no-untyped-def]
            page = reports.seller_sales(year, reports.Filters(scope=scope), page=None)
            db.session.rollback()
            return page

        t_officer, officer_page = timed(ours_officer, args.repeat)
        in_county = set(
            db.session.scalars(
                sa.select(Seller.id).where(*scope.sellers(), Seller.status == "approved")
            )
        )
        officer_mismatches = sum(
            1
            for row in officer_page.items
            if {k: getattr(row, k) for k in zero} != plain_rows.get(row.seller_id, zero)
        ) + (len(officer_page.items) != len(in_county))
        officer = User(email="officer@bench.example", name="officer", role=staff.role)
        db.session.add(officer)
        db.session.flush()
        db.session.add(StaffScope(user_id=officer.id, county_id=county_id))
        open_login(officer)
        db.session.commit()
        officer_client = app.test_client()
        with officer_client.session_transaction() as sess:
            sess["_user_id"] = officer.get_id()
            sess["_fresh"] = True
        db.session.rollback()

        def officer_hit():  # type: ignore[no-untyped-def]
            response = officer_client.get("/admin/sales?period=year&y=1404")
            assert response.status_code == 200, response.status_code
            return response

        t_officer_http, _ = timed(officer_hit, args.repeat)
        print(
            f"county officer's report, year 1404, {len(officer_page.items):,} of "
            f"{county_sellers:,} sellers in their county: service {t_officer * 1000:.1f} ms, "
            f"identical: {'yes' if not officer_mismatches else 'NO'}; their staff page "
            f"/admin/sales: {t_officer_http * 1000:.1f} ms"
        )
        mismatches += officer_mismatches
        db.session.remove()
        db.engine.dispose()
        if mismatches or not same_county:
            print("MISMATCH between the summary rows and the plain GROUP BY")
            sys.exit(1)
        print(f"province ratio: {t_ours / t_plain:.3f}")
        print(f"ratio: {t_officer / t_plain:.3f}")


if __name__ == "__main__":
    main()

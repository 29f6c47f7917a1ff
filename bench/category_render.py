"""CPU per render of the category page with the page cache off, on one machine's process.

    .venv/bin/python bench/category_render.py [--db postgresql|sqlite] [--renders 400]
        [--profile 40] [--reuse] [--cache-on]

Builds a database as ``bench/pages.py`` does (its loader: 10,000 demo-like products), then
calls the app (its WSGI entry, the same as gunicorn's) for the category page of
``bench/pages.CATEGORY_SLUG`` many times with ``PAGE_CACHE_ENABLED`` off, anonymous and signed
in, and prints per render: the process's CPU (``time.process_time``), the PostgreSQL backends'
CPU, and the statements sent (SQLAlchemy's cursor events plus the public reads run on the
driver's own cursor, see :mod:`app.core.reads`). ``--profile N`` prints cProfile's top functions
over N more renders. Unlike the ratio benchmark this does not depend on other load on the
machine much: CPU time, not wall time, is counted. ``--reuse`` keeps and reuses the database
(``--database`` on PostgreSQL / a file in the temporary folder). ``--cache-on`` measures the same
requests with the page cache on (hits, and the anonymous lane on PostgreSQL), to compare.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.common import HOST, postgres_cpu_seconds

PG_NAME = "bazarche_render_bench"  # the default of --database


def _app(url: str, tmp: Path, **extra: object):  # type: ignore[no-untyped-def]
    from app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-" + "k" * 40,
            "INSTANCE_DIR": str(tmp),
            "MEDIA_DIR": str(tmp / "media"),
            "SEARCH_INDEX_DIR": str(tmp / "search"),
            "MAIL_DIR": str(tmp / "mail"),
            "SESSION_COOKIE_SECURE": False,
            **extra,
        }
    )


def build(kind: str, tmp: Path, reuse: bool, name: str = PG_NAME) -> str:
    """The database URL, loaded with the bench's products (reused when asked and present)."""
    from bench import pages

    if kind == "postgresql":
        url = f"postgresql+psycopg://postgres@{HOST}:5432/{name}"
        if reuse:
            engine = sa.create_engine(f"{pages.PG_SERVER}/postgres")
            with engine.connect() as conn:
                found = conn.scalar(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                )
            engine.dispose()
            if found:
                return url
        pages.create_database(name)
    else:
        path = Path(tempfile.gettempdir()) / "bazarche_render_bench.sqlite3"
        url = f"sqlite:///{path}"
        if reuse and path.exists():
            return url
        path.unlink(missing_ok=True)
    from app.core.extensions import db

    loader = _app(url, tmp)
    with loader.app_context():
        db.create_all()
    loaded = pages.load_products(loader, 10_000)
    print(f"loaded {loaded['products']} products of {loaded['sellers']} sellers", flush=True)
    return url


class Counter:
    """Statements sent to the database: SQLAlchemy's cursor executions and the public reads
    run on the driver's own cursor."""

    def __init__(self) -> None:
        self.count = 0
        self.texts: list[str] = []

    def install(self) -> None:
        from app.core import reads

        def on_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
            self.count += 1
            self.texts.append(statement[:90].replace("\n", " "))

        sa.event.listen(sa.engine.Engine, "before_cursor_execute", on_execute)
        sa.event.listen(sa.engine.Engine, "begin", lambda conn: self.texts.append("(begin)"))
        sa.event.listen(sa.engine.Engine, "rollback", lambda conn: self.texts.append("(rollback)"))
        original = reads._on_driver

        def on_driver(engine, sql, params, run):  # type: ignore[no-untyped-def]
            self.count += 1
            self.texts.append("driver: " + sql[:80].replace("\n", " "))
            return original(engine, sql, params, run)

        reads._on_driver = on_driver  # type: ignore[assignment]


def environ_for(app, path: str, cookie: str | None):  # type: ignore[no-untyped-def]
    from werkzeug.test import EnvironBuilder

    headers = {"Accept-Language": "fa", "Host": "localhost"}
    if cookie:
        headers["Cookie"] = cookie
    builder = EnvironBuilder(path=path, headers=headers, base_url="http://localhost/")
    try:
        return builder.get_environ()
    finally:
        builder.close()


def call(app, environ: dict) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    status: list[str] = []

    def start_response(s, headers, exc_info=None):  # type: ignore[no-untyped-def]
        status.append(s)

    body_iter = app(dict(environ), start_response)
    try:
        body = b"".join(body_iter)
    finally:
        if hasattr(body_iter, "close"):
            body_iter.close()
    return status[0], body


def customer_cookie(app) -> str:  # type: ignore[no-untyped-def]
    """The Cookie header of a signed-in customer (a new one per run), as bench/pages.py's."""
    from app.accounts.models import User
    from app.accounts.sessions import open_login
    from app.core.extensions import db

    with app.app_context():
        customer = User(
            email=f"bench-customer-{secrets.token_hex(4)}@example.com",
            name="مشتری آزمایشی",
            password_hash="!",
        )
        db.session.add(customer)
        db.session.flush()
        open_login(customer)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = customer.get_id()
            sess["_fresh"] = True
        client.get("/")
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        assert cookie is not None
        db.session.remove()
        return f"{cookie.key}={cookie.value}"


def measure(app, path: str, cookie: str | None, renders: int, db_name: str | None) -> dict:  # type: ignore[no-untyped-def]
    environ = environ_for(app, path, cookie)
    for _ in range(30):  # warm: compiled statements, templates, prepared plans
        status, body = call(app, environ)
        assert status.startswith("200"), (status, body[:500])
    counter: Counter = app.config["_bench_counter"]
    before = counter.count
    counter.texts.clear()
    call(app, environ)
    one_render = list(counter.texts)
    queries = counter.count - before
    runs = []
    pg_before = postgres_cpu_seconds(db_name) if db_name else 0.0
    started = time.process_time()
    for _ in range(renders // 10):
        t0 = time.process_time()
        for _ in range(10):
            call(app, environ)
        runs.append((time.process_time() - t0) / 10)
    total = time.process_time() - started
    pg = (postgres_cpu_seconds(db_name) - pg_before) if db_name else 0.0
    return {
        "mean_ms": total * 1000 / (len(runs) * 10),
        "median_ms": statistics.median(runs) * 1000,
        "min_ms": min(runs) * 1000,
        "db_ms": pg * 1000 / (len(runs) * 10),
        "queries": queries,
        "statements": one_render,
        "bytes": len(body),
        "body": body,
    }


def profile(app, path: str, cookie: str | None, renders: int, top: int) -> str:  # type: ignore[no-untyped-def]
    environ = environ_for(app, path, cookie)
    prof = cProfile.Profile(time.process_time)  # CPU, not the wait for the database
    prof.enable()
    for _ in range(renders):
        call(app, environ)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--renders", type=int, default=400)
    parser.add_argument("--profile", type=int, default=0, help="renders under cProfile")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--reuse", action="store_true", help="keep and reuse the database")
    parser.add_argument("--database", default=PG_NAME, help="PostgreSQL database to build")
    parser.add_argument("--query", default="", help="query string of the category page")
    parser.add_argument("--statements", action="store_true", help="print one render's SQL")
    parser.add_argument("--save", help="write the anonymous page's body to this file")
    parser.add_argument(
        "--cache-on", action="store_true", help="with the page cache on (hits, for comparison)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.pop("DATABASE_URL", None)
    from bench import pages

    tmp = Path(tempfile.mkdtemp(prefix="bazarche-render-"))
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        parser.error("--database: lower-case letters, digits and underscores only")
    url = build(args.db, tmp, args.reuse, args.database)
    app = _app(url, tmp, PAGE_CACHE_ENABLED=args.cache_on)
    counter = Counter()
    counter.install()
    app.config["_bench_counter"] = counter
    path = "/c/" + quote(pages.category_slug()) + (f"?{args.query}" if args.query else "")
    cookie = customer_cookie(app)
    db_name = args.database if args.db == "postgresql" else None
    for name, who in (("anonymous", None), ("signed in", cookie)):
        result = measure(app, path, who, args.renders, db_name)
        print(
            f"{args.db:<10} {name:<10} CPU per render: mean {result['mean_ms']:.2f} ms, "
            f"median {result['median_ms']:.2f} ms, best {result['min_ms']:.2f} ms; "
            f"database CPU {result['db_ms']:.2f} ms; statements {result['queries']}; "
            f"{result['bytes']} bytes",
            flush=True,
        )
        if args.statements:
            for text in result["statements"]:
                print("    ", text)
        if args.save and who is None:
            Path(args.save).write_bytes(result["body"])
        if args.profile:
            print(profile(app, path, who, args.profile, args.top))
    if not args.reuse and args.db == "postgresql":
        pages.drop_database(args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())

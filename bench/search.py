"""Search benchmark: the Whoosh backend against SQLite FTS5 on a generated Persian catalogue.

Generates a deterministic catalogue (default 100,000 products: product nouns × adjectives ×
materials × places, 20 counties, 6 sectors, 42 leaf categories under 6 top ones, random prices,
spellings with and without joiners, with Arabic letters and Persian digits), builds the Whoosh
index through ``WhooshBackend.rebuild`` (prints the build time, its CPU time and the index size)
and an FTS5 table over the same analysed text, then runs the same query mix (one- and two-word
queries, about one in three with a category/county/sector filter, every one with facet counts
for category, county and sector, page 1 of 24 by relevance; a tenth of them, ``--typos``, a noun
with a one-letter typo, which the backends match as the closest indexed word) on both, after one
warm-up pass, and prints p50/p95 wall-clock latencies (CPU time in brackets: the machine may be shared). The
Whoosh side also builds the highlights of the page; the FTS5 side does not. The last line is
``ratio: N`` (Whoosh p95 / FTS5 p95, wall clock).

With ``--pg URL`` (or ``BENCH_DATABASE_URL``) the PostgreSQL backend is measured too, in a
schema ``bench_search`` of that database (dropped afterwards; use a database of its own): build
time through ``PostgresBackend.rebuild``, size of its tables and indexes
(``pg_total_relation_size``) and the same query mix (highlights included), followed by a
``pg ratio: N`` line (PostgreSQL p95 / FTS5 p95) before the last line. The CPU time shown for
PostgreSQL is the benchmark process's only (the server's own is not counted).

    python bench/search.py [--docs 100000] [--queries 200] [--seed 1399] [--procs 2]
                           [--memory 2048] [--dir PATH] [--pg URL] [--typos 0.1]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.search.backend import SearchDoc, SearchQuery  # noqa: E402
from app.search.normalize import index_forms, parse_query  # noqa: E402
from app.search.postgres import PostgresBackend  # noqa: E402
from app.search.whoosh import WhooshBackend  # noqa: E402

ZWNJ = "\u200c"

SECTORS = {
    "handicraft": "صنایع دستی",
    "textile": "پوشاک و منسوجات",
    "food": "خوراکی",
    "cosmetics": "آرایشی و بهداشتی",
    "tourism": "گردشگری",
    "home": "خانه و آشپزخانه",
}

# sector → {category name: product nouns}
CATEGORIES: dict[str, dict[str, list[str]]] = {
    "handicraft": {
        "سوزن‌دوزی": ["رومیزی", "کوسن", "سجاده", "قاب"],
        "سفال": ["کوزه", "گلدان", "کاسه", "بشقاب"],
        "حصیربافی": ["سبد", "حصیر", "بادبزن", "زیرانداز"],
        "گلیم و فرش": ["گلیم", "قالیچه", "پادری", "جاجیم"],
        "زیورآلات": ["دستبند", "گردنبند", "گوشواره", "انگشتر"],
        "چوب و خاتم": ["جعبه", "آینه", "قلمدان", "شکلات‌خوری"],
        "عروسک": ["عروسک", "آویز", "جاکلیدی"],
    },
    "textile": {
        "لباس محلی": ["پیراهن", "دامن", "چادر", "جلیقه"],
        "شال و روسری": ["شال", "روسری", "دستمال"],
        "کیف": ["کیف", "کوله", "کیسه"],
        "بافتنی": ["کلاه", "جوراب", "دستکش", "ژاکت"],
        "پارچه": ["پارچه", "ترمه", "چادرشب"],
        "کفش": ["کفش", "پاپوش", "گیوه"],
        "سیسمونی": ["پتو", "لحاف", "بالش"],
    },
    "food": {
        "خرما": ["خرما", "رطب", "شیره"],
        "ترشی و شور": ["ترشی", "شور", "لیته"],
        "ادویه": ["ادویه", "زعفران", "زردچوبه", "فلفل"],
        "عسل": ["عسل", "موم", "گرده"],
        "دریایی": ["ماهی", "میگو", "مهیاوه"],
        "شیرینی": ["کلوچه", "کیک", "شیرینی", "حلوا"],
        "خشکبار": ["کشمش", "انجیر", "گردو", "بادام"],
    },
    "cosmetics": {
        "صابون": ["صابون", "شامپو", "لیف"],
        "روغن": ["روغن", "پماد", "کرم"],
        "عطر": ["عطر", "گلاب", "عرق"],
        "دمنوش": ["دمنوش", "چای", "گل‌گاوزبان"],
        "حنا": ["حنا", "وسمه", "سرمه"],
        "شمع": ["شمع", "عودسوز", "خوشبوکننده"],
        "گیاهان دارویی": ["پودر", "برگ", "بذر"],
    },
    "tourism": {
        "اقامتگاه بوم‌گردی": ["اقامت", "اتاق", "کلبه"],
        "تور محلی": ["تور", "سفر", "گشت"],
        "کارگاه آموزشی": ["کارگاه", "دوره", "آموزش"],
        "غذای محلی": ["غذا", "ناهار", "شام"],
        "راهنمای محلی": ["راهنما", "همراه", "مترجم"],
        "صنایع دستی گردشگری": ["سوغات", "یادگاری", "هدیه"],
        "کمپ": ["چادر", "کمپ", "آلاچیق"],
    },
    "home": {
        "ظروف": ["سینی", "قوری", "فنجان", "لیوان"],
        "دکوری": ["تابلو", "مجسمه", "گلدان", "شمعدان"],
        "آشپزخانه": ["سفره", "دستگیره", "پیش‌بند"],
        "نساجی خانه": ["پرده", "رومبلی", "روتختی"],
        "نگهداری": ["سبد", "جعبه", "کیسه"],
        "روشنایی": ["چراغ", "فانوس", "آباژور"],
        "باغچه": ["گلدان", "بذر", "نهال"],
    },
}

ADJECTIVES = [
    "سنتی",
    "دستی",
    "دست\u200cدوز",
    "دست\u200cساز",
    "خانگی",
    "طبیعی",
    "ارگانیک",
    "محلی",
    "اصیل",
    "قدیمی",
    "رنگی",
    "سفید",
    "سیاه",
    "قرمز",
    "آبی",
    "سبز",
    "زرد",
    "بزرگ",
    "کوچک",
    "ظریف",
    "زیبا",
    "نفیس",
    "مرغوب",
    "تازه",
    "خشک",
    "دودی",
    "شور",
    "شیرین",
    "تند",
    "معطر",
    "گیاهی",
    "کلاسیک",
    "مدرن",
    "عشایری",
    "روستایی",
    "بلوچی",
    "ممتاز",
    "ویژه",
    "اقتصادی",
    "لوکس",
]

MATERIALS = [
    "سفالی",
    "چوبی",
    "حصیری",
    "پارچه\u200cای",
    "پشمی",
    "نخی",
    "ابریشمی",
    "چرمی",
    "مسی",
    "نقره\u200cای",
    "برنجی",
    "شیشه\u200cای",
    "سنگی",
    "فلزی",
    "سوزن\u200cدوزی\u200cشده",
    "گلدوزی\u200cشده",
    "منجوق\u200cدوزی",
    "خامه\u200cدوزی",
    "پته\u200cدوزی",
    "ملیله\u200cکاری",
    "قلمکار",
    "ترمه\u200cای",
    "گلیم\u200cبافت",
    "نمدی",
    "کاشی",
    "میناکاری",
    "خاتم",
    "معرق",
    "مرصع",
    "بامبو",
]

COUNTIES = {
    "zahedan": "زاهدان",
    "zabol": "زابل",
    "chabahar": "چابهار",
    "iranshahr": "ایرانشهر",
    "saravan": "سراوان",
    "khash": "خاش",
    "nikshahr": "نیکشهر",
    "konarak": "کنارک",
    "sarbaz": "سرباز",
    "rask": "راسک",
    "dalgan": "دلگان",
    "hirmand": "هیرمند",
    "zahak": "زهک",
    "mirjaveh": "میرجاوه",
    "sib-suran": "سیب و سوران",
    "qasr-qand": "قصرقند",
    "fanuj": "فنوج",
    "mehrestan": "مهرستان",
    "dashtiari": "دشتیاری",
    "hamun": "هامون",
}

FIRST_NAMES = [
    "مریم",
    "فاطمه",
    "زهرا",
    "زینب",
    "معصومه",
    "لیلا",
    "شهناز",
    "گل\u200cبی\u200cبی",
    "خدیجه",
    "سکینه",
    "نرگس",
    "شیرین",
    "بی\u200cبی\u200cگل",
    "نسرین",
    "پروین",
    "رقیه",
    "هاجر",
    "سمیه",
    "مهناز",
    "ثریا",
    "عبدالله",
    "محمد",
    "رضا",
    "علی",
    "حسین",
    "یوسف",
    "ابراهیم",
    "داوود",
    "نور",
    "احمد",
    "جمیله",
    "حلیمه",
    "آمنه",
]
LAST_NAMES = [
    "بلوچ",
    "ریگی",
    "نارویی",
    "شه\u200cبخش",
    "براهویی",
    "سارانی",
    "میر",
    "دهواری",
    "بامری",
    "کرد",
    "سیاهانی",
    "شهنوازی",
    "گمشادزهی",
    "ملازهی",
    "دهقان",
    "سنجرانی",
    "رئیسی",
    "جمالزهی",
    "کهرازهی",
    "لاشاری",
    "بزرگزاده",
    "پودینه",
    "بهرامی",
    "قنبرزهی",
    "حسین\u200cبر",
    "آسکانی",
    "زارعی",
    "پاکزاد",
    "میرشکار",
    "کیخا",
]
WORKSHOPS = ["کارگاه", "خانه", "هنرکده", "بازارچه", "گروه", "تعاونی"]

SENTENCES = [
    "این {noun} {adj} در {place} به دست {seller} ساخته شده است",
    "{noun} {material} با کیفیت بالا و بسته‌بندی مناسب برای هدیه",
    "مناسب برای استفاده روزانه و هدیه به عزیزان؛ ارسال به سراسر کشور",
    "تولید {seller} از شهرستان {place} در طرح توسعه مشاغل خانگی",
    "قیمت مناسب و ارسال سریع؛ سفارش‌ها در کمتر از {days} روز آماده می‌شوند",
    "هر {noun} با دقت و حوصله و با مواد {adj} آماده می‌شود",
    "وزن تقریبی {weight} گرم و ابعاد {size} سانتی‌متر",
    "محصولات ما را در نمایشگاه‌های صنایع دستی و بازارچه‌های محلی هم ببینید",
]

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _vary(text: str, rnd: random.Random) -> str:
    """Spell ``text`` the way people type: sometimes without joiners, with a CGJ, with
    Arabic yeh/kaf, with Persian digits."""
    r = rnd.random()
    if r < 0.15:
        text = text.replace(ZWNJ, "")
    elif r < 0.20:
        text = text.replace(ZWNJ, " ")
    elif r < 0.23:
        text = text.replace(ZWNJ, "\u034f")
    if rnd.random() < 0.08:
        text = text.replace("ی", "ي").replace("ک", "ك")
    if rnd.random() < 0.5:
        text = text.translate(PERSIAN_DIGITS)
    return text


def catalogue(n: int, seed: int) -> Iterator[SearchDoc]:
    """``n`` products, the same for the same ``seed``."""
    rnd = random.Random(seed)
    cats: list[tuple[int, int, str, str, str, list[str]]] = []
    next_id = 1
    for sector, children in CATEGORIES.items():
        top = next_id
        next_id += 1
        for name, nouns in children.items():
            cats.append((next_id, top, sector, SECTORS[sector], name, nouns))
            next_id += 1
    sellers = []
    for i in range(3000):
        name = f"{rnd.choice(WORKSHOPS)} {rnd.choice(FIRST_NAMES)} {rnd.choice(LAST_NAMES)}"
        sellers.append((name, f"seller-{i}", rnd.choice(list(COUNTIES))))
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for pid in range(1, n + 1):
        cid, top, sector, sector_name, cat_name, nouns = rnd.choice(cats)
        seller, slug, county = rnd.choice(sellers)
        place = COUNTIES[county]
        noun = rnd.choice(nouns)
        adj = rnd.choice(ADJECTIVES)
        material = rnd.choice(MATERIALS)
        title = f"{noun} {adj} {material if rnd.random() < 0.6 else ''} {place}"
        fields = {
            "noun": noun,
            "adj": rnd.choice(ADJECTIVES),
            "material": rnd.choice(MATERIALS),
            "place": place,
            "seller": seller,
            "days": rnd.randint(2, 14),
            "weight": rnd.randint(50, 5000),
            "size": f"{rnd.randint(5, 90)} در {rnd.randint(5, 90)}",
        }
        sentences = rnd.sample(SENTENCES, rnd.randint(2, 4))
        description = ". ".join(s.format(**fields) for s in sentences) + "."
        yield SearchDoc(
            id=pid,
            title=_vary(" ".join(title.split()), rnd),
            description=_vary(description, rnd),
            category_path=f"{sector_name} > {cat_name}",
            category_ids=[cid, top],
            seller_name=seller,
            seller_slug=slug,
            county=county,
            sector=sector,
            price_amount=rnd.randint(20, 5000) * 10_000,
            created_at=start + timedelta(minutes=rnd.randint(0, 900 * 24 * 60)),
            in_stock=rnd.random() < 0.85,
        )


TYPO_LETTERS = "ابپتسجچحخدرزسشصطعفقکگلمنوهی"


def typo(word: str, rnd: random.Random) -> str:
    """``word`` with one letter after the first replaced by another (a one-edit typo)."""
    i = rnd.randrange(1, len(word))
    other = rnd.choice([c for c in TYPO_LETTERS if c != word[i]])
    return word[:i] + other + word[i + 1 :]


TYPO_QUERIES: set[str] = set()
"""The texts :func:`query_mix` made typos of (FTS5 finds nothing for them)."""


def query_mix(count: int, seed: int, typos: float = 0.1) -> list[SearchQuery]:
    """``count`` queries: one and two words; about one in three with a filter; a share
    ``typos`` of them a noun of four letters or more with a one-letter typo (matched as the
    closest indexed word), marked ``typo`` in :data:`TYPO_QUERIES`."""
    rnd = random.Random(seed + 1)
    nouns = sorted({n for children in CATEGORIES.values() for ns in children.values() for n in ns})
    long_nouns = [n for n in nouns if len(n) >= 4 and ZWNJ not in n]
    leaf_ids = list(range(2, 2 + 7))  # the first sector's categories (ids 2..8)
    places = list(COUNTIES.values())
    out: list[SearchQuery] = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            text = rnd.choice(nouns)
        elif kind == 1:
            text = rnd.choice(ADJECTIVES + MATERIALS)
        elif kind == 2:
            text = f"{rnd.choice(nouns)} {rnd.choice(ADJECTIVES)}"
        elif kind == 3:
            text = f"{rnd.choice(nouns)} {rnd.choice(places)}"
        else:
            text = f"{rnd.choice(nouns)} {rnd.choice(MATERIALS)}"
        if typos and rnd.random() < typos:
            text = typo(rnd.choice(long_nouns), rnd)
            TYPO_QUERIES.add(text)
        q = SearchQuery(text=text)
        f = rnd.random()
        if f < 0.1:
            q.category = rnd.choice(leaf_ids + [1, 9, 17])
        elif f < 0.2:
            q.county = rnd.choice(list(COUNTIES))
        elif f < 0.3:
            q.sector = rnd.choice(list(SECTORS))
        out.append(q)
    return out


# --- SQLite FTS5 ---------------------------------------------------------------------------------


class Fts5:
    """The same searches on SQLite FTS5: matching on the analysed terms, bm25 ranking with
    the same field weights, filters and facet counts (each facet ignoring its own filter) in
    SQL over the matches."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE VIRTUAL TABLE fts USING fts5(
                title, meta, body, loose, tokenize = "unicode61 remove_diacritics 0");
            CREATE TABLE attrs (id INTEGER PRIMARY KEY, leaf TEXT, county TEXT, sector TEXT,
                                price INTEGER, created INTEGER, in_stock INTEGER);
            CREATE TABLE doc_cats (cat TEXT, id INTEGER, PRIMARY KEY (cat, id)) WITHOUT ROWID;
            """
        )

    def build(self, docs: list[SearchDoc]) -> None:
        rows, attrs, cats = [], [], []
        for d in docs:
            t_exact, t_stems = index_forms(d.title)
            m_exact, m_stems = index_forms(f"{d.category_path} ; {d.seller_name}")
            b_exact, b_stems = index_forms(d.description)
            rows.append(
                (
                    d.id,
                    " ".join(t_exact),
                    " ".join(m_exact),
                    " ".join(b_exact),
                    " ".join(t_stems + m_stems + b_stems),
                )
            )
            attrs.append(
                (
                    d.id,
                    str(d.category_ids[0]),
                    d.county,
                    d.sector,
                    d.price_amount,
                    int(d.created_at.timestamp()),
                    int(d.in_stock),
                )
            )
            cats.extend((str(c), d.id) for c in d.category_ids)
        with self.db:
            self.db.executemany(
                "INSERT INTO fts(rowid, title, meta, body, loose) VALUES (?,?,?,?,?)", rows
            )
            self.db.executemany("INSERT INTO attrs VALUES (?,?,?,?,?,?,?)", attrs)
            self.db.executemany("INSERT INTO doc_cats VALUES (?,?)", cats)
        self.db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        self.db.execute("ANALYZE")

    @staticmethod
    def _match(text: str) -> str:
        clauses = []
        for w in parse_query(text):
            forms = " OR ".join('"' + f.replace('"', "") + '"' for f in w.loose)
            clauses.append(f"({forms})")
        return " AND ".join(clauses)

    def search(self, q: SearchQuery) -> tuple[list[int], int, dict[str, dict[str, int]]]:
        match = self._match(q.text)
        db = self.db
        db.execute("DELETE FROM temp.m")
        db.execute(
            "INSERT INTO temp.m SELECT rowid, bm25(fts, 4.0, 2.0, 1.0, 0.5) FROM fts "
            "WHERE fts MATCH ?",
            (match,),
        )
        filters: dict[str, tuple[str, tuple]] = {}
        if q.category is not None:
            filters["category"] = (
                "m.id IN (SELECT id FROM doc_cats WHERE cat = ?)",
                (str(q.category),),
            )
        if q.county:
            filters["county"] = ("a.county = ?", (q.county,))
        if q.sector:
            filters["sector"] = ("a.sector = ?", (q.sector,))

        def where(skip: str | None = None) -> tuple[str, tuple]:
            parts = [(sql, args) for name, (sql, args) in filters.items() if name != skip]
            if not parts:
                return "", ()
            return " WHERE " + " AND ".join(p[0] for p in parts), sum((p[1] for p in parts), ())

        base = "FROM temp.m m JOIN attrs a ON a.id = m.id"
        w_sql, w_args = where()
        ids = [
            r[0]
            for r in db.execute(
                f"SELECT m.id {base}{w_sql} ORDER BY m.score LIMIT ?", (*w_args, q.per_page)
            )
        ]
        total = db.execute(f"SELECT count(*) {base}{w_sql}", w_args).fetchone()[0]
        facets: dict[str, dict[str, int]] = {}
        for name, column in (("category", "leaf"), ("county", "county"), ("sector", "sector")):
            f_sql, f_args = where(name)
            facets[name] = dict(
                db.execute(
                    f"SELECT a.{column}, count(*) {base}{f_sql} GROUP BY a.{column} "
                    "ORDER BY 2 DESC",
                    f_args,
                ).fetchall()
            )
        return ids, total, facets

    def prepare(self) -> None:
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, score REAL)")


# --- timing -----------------------------------------------------------------------------------


def timed(
    run: Callable[[SearchQuery], object], queries: list[SearchQuery]
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per query, after one warm-up pass over the mix."""
    for q in queries:  # warm-up pass: page cache, column arrays, first-use costs
        run(q)
    wall, cpu = [], []
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        run(q)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def dir_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1399)
    ap.add_argument("--procs", type=int, default=2, help="Whoosh build processes")
    ap.add_argument("--memory", type=int, default=2048, help="Whoosh build buffer, MB")
    ap.add_argument("--dir", help="working directory (kept); default: a temporary one")
    ap.add_argument("--typos", type=float, default=0.1, help="share of queries with a typo")
    ap.add_argument(
        "--pg",
        default=os.environ.get("BENCH_DATABASE_URL") or None,
        help="also measure the PostgreSQL backend in this database (env BENCH_DATABASE_URL)",
    )
    args = ap.parse_args(argv)

    work = args.dir or tempfile.mkdtemp(prefix="bazarche-search-bench-")
    os.makedirs(work, exist_ok=True)
    pg: PostgresBackend | None = None
    try:
        t0 = time.perf_counter()
        docs = list(catalogue(args.docs, args.seed))
        print(f"catalogue: {len(docs)} products generated in {time.perf_counter() - t0:.1f} s")
        queries = query_mix(args.queries, args.seed, args.typos)

        backend = WhooshBackend(
            os.path.join(work, "whoosh"), build_procs=args.procs, build_memory_mb=args.memory
        )
        t0, c0 = time.perf_counter(), os.times()
        backend.rebuild(docs)
        build, c1 = time.perf_counter() - t0, os.times()
        cpu = sum(c1[i] - c0[i] for i in range(4))  # user, system, children's user, system
        size = dir_size(os.path.join(work, "whoosh"))
        print(
            f"whoosh build: {build:.1f} s ({cpu:.1f} s of cpu in {args.procs} processes), "
            f"index size {size / 2**20:.1f} MiB, {backend.health()['segments']} segments"
        )

        fts_path = os.path.join(work, "fts5.db")
        if os.path.exists(fts_path):
            os.remove(fts_path)
        fts = Fts5(fts_path)
        t0 = time.perf_counter()
        fts.build(docs)
        print(
            f"fts5 build: {time.perf_counter() - t0:.1f} s, "
            f"database size {os.path.getsize(fts_path) / 2**20:.1f} MiB"
        )
        fts.prepare()

        if args.pg:
            pg = PostgresBackend(args.pg, schema="bench_search", lock_timeout=60)
            pg.drop()
            t0, c0 = time.perf_counter(), time.process_time()
            pg.rebuild(docs)
            build, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(
                f"postgres build: {build:.1f} s ({cpu:.1f} s of cpu here), "
                f"tables and indexes {pg.index_size() / 2**20:.1f} MiB"
            )

        checks = pg_checks = 0
        for q in [q for q in queries if q.text not in TYPO_QUERIES][:20]:
            r = backend.search(q)
            _ids, total, _facets = fts.search(q)
            checks += r.total == total
            if pg is not None:
                pg_checks += pg.search(q).total == total
        print(f"same totals on {checks}/20 sample queries")
        if pg is not None:
            print(f"postgres: same totals on {pg_checks}/20 sample queries")

        backend.close()
        t0 = time.perf_counter()
        backend.search(SearchQuery(text="گلدان"))
        first = (time.perf_counter() - t0) * 1000
        print(f"whoosh first query (opens the index, loads the columns): {first:.0f} ms")
        runs = [("whoosh", *timed(backend.search, queries))]
        f, f_cpu = timed(fts.search, queries)
        runs.append(("fts5", f, f_cpu))
        if pg is not None:
            runs.append(("postgres", *timed(pg.search, queries)))
        typo_queries = [q for q in queries if q.text in TYPO_QUERIES]
        if typo_queries:
            corrected = sum(backend.search(q).corrected is not None for q in typo_queries)
            print(
                f"{len(typo_queries)} of {len(queries)} queries have a one-letter typo; "
                f"whoosh answered {corrected} with the closest word"
            )
        for name, wall, cpu in runs:
            print(
                f"{name + ':':10}p50 {pct(wall, 50):.1f} ms  p95 {pct(wall, 95):.1f} ms  "
                f"max {max(wall):.1f} ms  mean {statistics.mean(wall):.1f} ms   "
                f"(cpu p50 {pct(cpu, 50):.1f} ms, p95 {pct(cpu, 95):.1f} ms)"
            )
        # odd input: one 200-letter word, and 32 long words (the did-you-mean work is bounded)
        odd = [
            SearchQuery(text="گلدانسفالی" * 20),
            SearchQuery(text=" ".join(f"سفالینهلعابدار{n}" for n in range(32))),
        ]
        for name, search in [("whoosh", backend.search)] + (
            [("postgres", pg.search)] if pg else []
        ):
            wall, _cpu = timed(search, odd)
            print(f"{name} long words: max {max(wall):.1f} ms")
        print(f"load average after the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        w = runs[0][1]
        if pg is not None:
            print(f"pg ratio: {pct(runs[2][1], 95) / pct(f, 95):.2f}")
        print(f"ratio: {pct(w, 95) / pct(f, 95):.2f}")
    finally:
        if pg is not None:
            pg.drop()
            pg.close()
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The Whoosh backend against the fixed Persian catalogue."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.search import (
    IndexBusy,
    IndexUnavailable,
    SearchBackend,
    SearchDoc,
    SearchQuery,
    SearchResult,
    doc_stamp,
)
from app.search.whoosh_backend import WhooshBackend
from tests.search.catalogue import BY_ID, PRODUCTS
from tests.search.relevance_cases import CASES, Case

DOCS = [SearchDoc(**p) for p in PRODUCTS]


def all_ids(backend: WhooshBackend, **kwargs: object) -> list[int]:
    result = backend.search(SearchQuery(per_page=100, **kwargs))  # type: ignore[arg-type]
    assert len(result.ids) == result.total
    return result.ids


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhooshBackend]:
    b = WhooshBackend(str(tmp_path_factory.mktemp("search") / "index"))
    assert b.rebuild(DOCS) == len(DOCS)
    yield b
    b.close()


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhooshBackend]:
    """The same catalogue written in several commits (several segments, with deletions)."""
    b = WhooshBackend(str(tmp_path_factory.mktemp("segmented") / "index"))
    b.rebuild(DOCS[:20])
    b.index([replace(d, title="موقت") for d in DOCS[20:30]])
    b.index(DOCS[20:40])  # replaces the temporary ones: deleted documents in a segment
    b.index(DOCS[40:])
    b.remove([999])  # unknown ids are ignored
    assert b.health()["segments"] > 1
    yield b
    b.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[WhooshBackend]:
    b = WhooshBackend(str(tmp_path / "index"), lock_timeout=0.3)
    yield b
    b.close()


def test_implements_the_protocol(backend: WhooshBackend) -> None:
    assert isinstance(backend, SearchBackend)


# --- relevance -----------------------------------------------------------------------------


def check_case(backend: WhooshBackend, case: Case) -> None:
    result = backend.search(SearchQuery(text=case.query, per_page=100))
    found = result.ids
    assert result.total == len(found)
    missing = [i for i in case.expected if i not in found]
    assert not missing, f"{case.query!r}: {missing} not in {found}"
    if case.first:
        top = found[: len(case.expected)]
        assert set(top) == set(case.expected), f"{case.query!r}: top {top}, all {found}"
    unwanted = [i for i in case.absent if i in found]
    assert not unwanted, f"{case.query!r}: {unwanted} should not match"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}:{c.query}" for c in CASES])
def test_relevance(backend: WhooshBackend, case: Case) -> None:
    check_case(backend, case)


def test_relevance_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.rule for c in CASES}) >= 10


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}:{c.query}" for c in CASES])
def test_segmented_index_answers_the_same(
    backend: WhooshBackend, segmented: WhooshBackend, case: Case
) -> None:
    a = backend.search(SearchQuery(text=case.query, per_page=100))
    b = segmented.search(SearchQuery(text=case.query, per_page=100))
    assert sorted(a.ids) == sorted(b.ids)
    assert a.facets == b.facets


def test_every_product_is_found_by_its_own_title(backend: WhooshBackend) -> None:
    for doc in DOCS:
        assert doc.id in backend.search(SearchQuery(text=doc.title, per_page=100)).ids, doc.title


# --- browsing, filters, facets, sorting, pages -----------------------------------------------


def test_empty_query_lists_everything_newest_first(backend: WhooshBackend) -> None:
    result = backend.search(SearchQuery(per_page=100))
    assert result.total == len(DOCS)
    assert result.ids == sorted(BY_ID, reverse=True)
    assert result.highlights == {}
    assert result.suggestion is None


def test_category_filter_includes_descendants(backend: WhooshBackend) -> None:
    assert set(all_ids(backend, category=12)) == {9, 10, 11, 12, 13}
    handicraft = {p["id"] for p in PRODUCTS if 1 in p["category_ids"]}
    assert set(all_ids(backend, category=1)) == handicraft
    assert set(all_ids(backend, text="سوزن دوزی", category=43)) == {56}
    assert all_ids(backend, category=999) == []


def test_county_sector_price_and_stock_filters(backend: WhooshBackend) -> None:
    assert set(all_ids(backend, county="konarak")) == {
        p["id"] for p in PRODUCTS if p["county"] == "konarak"
    }
    assert set(all_ids(backend, sector="tourism")) == set(range(51, 58)) | {59}
    cheap = all_ids(backend, max_price=300_000)
    assert set(cheap) == {p["id"] for p in PRODUCTS if p["price_amount"] <= 300_000}
    band = all_ids(backend, min_price=1_000_000, max_price=1_200_000)
    assert set(band) == {p["id"] for p in PRODUCTS if 1_000_000 <= p["price_amount"] <= 1_200_000}
    # «حصیری» also finds «حصیر» (14, 16); 17 is out of stock
    assert set(all_ids(backend, text="حصیری", in_stock=True)) == {14, 15, 16}
    assert set(all_ids(backend, text="ماهی", county="konarak", sector="food")) == {39}


def facet_counts(ids: list[int], key: str) -> dict[str, int]:
    if key == "category":
        return dict(Counter(str(BY_ID[i]["category_ids"][0]) for i in ids))
    return dict(Counter(BY_ID[i][key] for i in ids))


def test_facets_count_matches(backend: WhooshBackend) -> None:
    result = backend.search(SearchQuery(text="سوزن دوزی", per_page=100))
    # every product of the needlework category matches through its category name
    assert set(result.ids) == {1, 2, 3, 4, 5, 6, 7, 8, 56}
    for key in ("category", "county", "sector"):
        assert result.facets[key] == facet_counts(result.ids, key)
    assert result.facets["category"] == {"11": 8, "43": 1}
    assert sum(result.facets["county"].values()) == result.total


def test_each_facet_ignores_its_own_filter(backend: WhooshBackend) -> None:
    unfiltered = backend.search(SearchQuery(text="سوزن دوزی"))
    result = backend.search(SearchQuery(text="سوزن دوزی", county="saravan", per_page=100))
    assert set(result.ids) == {1, 2, 56}
    assert result.total == unfiltered.facets["county"]["saravan"] == 3
    # the county facet still offers the other counties...
    assert result.facets["county"] == unfiltered.facets["county"]
    # ...while the other facets follow the county filter
    assert result.facets["category"] == {"11": 2, "43": 1}
    assert result.facets["sector"] == {"handicraft": 2, "tourism": 1}
    both = backend.search(SearchQuery(text="سوزن دوزی", county="saravan", category=11))
    assert both.total == 2
    assert both.facets["category"] == {"11": 2, "43": 1}  # ignores the category filter
    assert both.facets["county"] == facet_counts([1, 2, 3, 4, 5, 6, 7, 8], "county")


def test_browse_facets_cover_the_catalogue(backend: WhooshBackend) -> None:
    facets = backend.search(SearchQuery()).facets
    assert sum(facets["category"].values()) == len(DOCS)
    assert facets["sector"] == dict(Counter(p["sector"] for p in PRODUCTS))
    assert list(facets["county"].values()) == sorted(facets["county"].values(), reverse=True)


@pytest.mark.parametrize("text", ["", "سفال", "خرما"])
def test_sorting(backend: WhooshBackend, text: str) -> None:
    newest = all_ids(backend, text=text, sort="newest")
    assert newest == sorted(newest, reverse=True)  # higher id = newer
    asc = all_ids(backend, text=text, sort="price_asc")
    prices = [BY_ID[i]["price_amount"] for i in asc]
    assert prices == sorted(prices)
    desc = all_ids(backend, text=text, sort="price_desc")
    prices = [BY_ID[i]["price_amount"] for i in desc]
    assert prices == sorted(prices, reverse=True)
    assert set(newest) == set(asc) == set(desc)


def test_unknown_sort_falls_back_to_relevance(backend: WhooshBackend) -> None:
    assert all_ids(backend, text="زعفران", sort="bogus")[0] == 33


@pytest.mark.parametrize("text", ["", "سوزن دوزی"])
def test_pagination(backend: WhooshBackend, text: str) -> None:
    full = all_ids(backend, text=text)
    pages: list[int] = []
    page = 1
    while True:
        result = backend.search(SearchQuery(text=text, page=page, per_page=3))
        assert result.total == len(full)
        if not result.ids:
            break
        pages.extend(result.ids)
        page += 1
    assert pages == full
    beyond = backend.search(SearchQuery(text=text, page=999, per_page=3))
    assert beyond.ids == [] and beyond.total == len(full)


def test_page_arguments_are_clamped(backend: WhooshBackend) -> None:
    assert backend.search(SearchQuery(page=0, per_page=-5)).ids == [60]
    assert len(backend.search(SearchQuery(per_page=0)).ids) == 24  # the default
    assert len(backend.search(SearchQuery(per_page=10_000)).ids) == len(DOCS)  # max 100


# --- hostile input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "title:سفال",
        "body:* OR 1=1",
        "*",
        "?",
        '"unbalanced',
        "(((سفال",
        "سفال AND NOT",
        "!!!",
        "؟؟؟ ، ؛",
        "🧶🏺✨",
        "\x00",
        "\ud800 broken surrogate",
        "<script>alert(1)</script>",
        "a" * 10_000,
        "سفال " * 3_000,
        " ".join(f"w{i}" for i in range(200)),
        "\u200c\u200c\u034f",
    ],
)
def test_hostile_queries_are_safe(backend: WhooshBackend, text: str) -> None:
    result = backend.search(SearchQuery(text=text))
    assert isinstance(result, SearchResult)
    assert result.total >= 0
    for snippet in result.highlights.values():
        assert "<script>" not in snippet


def test_field_syntax_is_plain_text(backend: WhooshBackend) -> None:
    # «title:سفال» is the two words «title» and «سفال»: nothing has «title»
    assert backend.search(SearchQuery(text="title:سفال")).total == 0
    assert (
        backend.search(SearchQuery(text="سفال:")).total
        == backend.search(SearchQuery(text="سفال")).total
    )


def test_punctuation_only_lists_everything(backend: WhooshBackend) -> None:
    assert backend.search(SearchQuery(text="*")).total == len(DOCS)


# --- highlights, did you mean, suggestions ---------------------------------------------------


def test_highlights_for_the_page(backend: WhooshBackend) -> None:
    result = backend.search(SearchQuery(text="سوزندوزی", per_page=4))
    assert set(result.highlights) == set(result.ids)
    for snippet in result.highlights.values():
        assert "<mark>" in snippet
    result = backend.search(SearchQuery(text="سوزندوزی", per_page=100))
    assert result.highlights[1] == "رومیزی <mark>سوزن\u200cدوزی</mark> بلوچ"


def test_highlight_prefers_the_description_when_it_matches(backend: WhooshBackend) -> None:
    result = backend.search(SearchQuery(text="نام نویسی"))
    assert result.highlights[56] == "برای <mark>نام</mark> <mark>نویسی</mark> تماس بگیرید."
    assert "<mark>نامنویسی</mark>" in result.highlights[55]


def test_highlight_is_escaped(fresh: WhooshBackend) -> None:
    fresh.index([SearchDoc(id=1, title="<b>سفال</b>", description="<i>سفال & گل</i>")])
    out = fresh.search(SearchQuery(text="سفال")).highlights[1]
    assert out == "&lt;i&gt;<mark>سفال</mark> &amp; گل&lt;/i&gt;"


@pytest.mark.parametrize(
    ("typo", "fixed"),
    [("سوزندوری", "سوزندوزی"), ("زعفرن", "زعفران"), ("کلپورگن", "کلپورگان")],
)
def test_did_you_mean(backend: WhooshBackend, typo: str, fixed: str) -> None:
    result = backend.search(SearchQuery(text=typo))
    assert result.total == 0
    assert result.suggestion == fixed
    assert backend.search(SearchQuery(text=result.suggestion)).total > 0


def test_no_suggestion_when_results_are_plenty(backend: WhooshBackend) -> None:
    assert backend.search(SearchQuery(text="سوزن دوزی")).suggestion is None
    assert backend.search(SearchQuery(text="qqqqqqqq")).suggestion is None


def test_suggest_completes_categories_sellers_and_titles(backend: WhooshBackend) -> None:
    out = backend.suggest("سوز", limit=20)
    assert out[0] == "سوزن\u200cدوزی"  # the category name first
    assert "رومیزی سوزن\u200cدوزی بلوچ" in out
    assert "سفالگران کلپورگان" in backend.suggest("کلپ")
    assert "صیادان چابهار" in backend.suggest("صیا", limit=20)
    assert backend.suggest("ماهی دو") == ["ماهی دودی چابهار"]
    assert backend.suggest("اقامتگاه بوم") == [
        "اقامتگاه بوم\u200cگردی",
        "اقامتگاه بومگردی کنار دریا",
    ]


def test_suggest_normalises_the_prefix(backend: WhooshBackend) -> None:
    assert backend.suggest("ترشي") == backend.suggest("ترشی")
    assert "ترشی انبه" in backend.suggest("ترشي")


@pytest.mark.parametrize("prefix", ["", " ", "س", "*", "🧶", "title:", "zzzz"])
def test_suggest_unusable_prefix(backend: WhooshBackend, prefix: str) -> None:
    assert backend.suggest(prefix) == []


def test_suggest_limit(backend: WhooshBackend) -> None:
    assert len(backend.suggest("سو", limit=3)) == 3
    assert backend.suggest("سو", limit=0) == []


# --- writing: add, replace, remove, stamps -----------------------------------------------------


def test_missing_index_is_unavailable(fresh: WhooshBackend) -> None:
    assert not fresh.exists()
    assert fresh.health()["ok"] is False
    with pytest.raises(IndexUnavailable):
        fresh.search(SearchQuery(text="سفال"))
    with pytest.raises(IndexUnavailable):
        fresh.all_ids_with_stamp()
    fresh.remove([1])  # nothing to remove from: no error, no index created
    assert not fresh.exists()


def test_clear_creates_an_empty_index(fresh: WhooshBackend) -> None:
    fresh.clear()
    assert fresh.exists()
    result = fresh.search(SearchQuery())
    assert result.total == 0 and result.ids == []
    assert result.facets == {"category": {}, "county": {}, "sector": {}}
    assert fresh.suggest("سفال") == []
    typo = fresh.search(SearchQuery(text="سفالل"))
    assert typo.total == 0 and typo.suggestion is None


def test_same_id_twice_in_one_batch(fresh: WhooshBackend) -> None:
    fresh.index([DOCS[0], replace(DOCS[0], title="کوزه آبی", description="")])
    assert fresh.health()["docs"] == 1
    assert fresh.search(SearchQuery(text="کوزه")).ids == [1]


def test_index_update_remove(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:10])
    assert fresh.health()["docs"] == 10
    assert fresh.search(SearchQuery(text="گلدان")).ids == [9]
    fresh.index([replace(DOCS[8], title="کوزه آبی", description="کوزه لعاب دار")])
    assert fresh.search(SearchQuery(text="گلدان")).ids == []  # the old title is gone
    assert fresh.search(SearchQuery(text="کوزه آبی")).ids == [9]
    assert fresh.health()["docs"] == 10
    fresh.remove([9, 1])
    assert 9 not in all_ids(fresh) and 1 not in all_ids(fresh)
    assert fresh.search(SearchQuery(text="کوزه آبی")).total == 0
    assert fresh.health()["docs"] == 8


def test_stamps(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:5])
    stamps = fresh.all_ids_with_stamp()
    assert stamps == {d.id: doc_stamp(d) for d in DOCS[:5]}
    changed = replace(DOCS[0], price_amount=DOCS[0].price_amount + 1)
    assert doc_stamp(changed) != doc_stamp(DOCS[0])
    fresh.index([changed])
    assert fresh.all_ids_with_stamp()[changed.id] == doc_stamp(changed)


def test_other_instance_sees_commits(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:3])
    other = WhooshBackend(fresh.path)
    assert other.search(SearchQuery()).total == 3
    fresh.index(DOCS[3:6])
    fresh.remove([1])
    assert other.search(SearchQuery()).total == 5
    assert 1 not in all_ids(other)
    other.close()


# --- rebuild and swap --------------------------------------------------------------------


def test_rebuild_swaps_atomically_and_cleans_up(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:5])
    reader = WhooshBackend(fresh.path)
    assert reader.search(SearchQuery()).total == 5
    names = []
    for size in (10, 20, 30):
        assert fresh.rebuild(DOCS[:size]) == size
        names.append(fresh.health()["index"])
        assert reader.search(SearchQuery()).total == size  # the other process follows
    entries = sorted(os.listdir(fresh.path))
    indexes = [e for e in entries if e.startswith("index-")]
    assert sorted(indexes) == sorted(names[-2:])  # the live one and the previous one
    assert not [e for e in entries if e.startswith(".new-")]
    assert Path(fresh.path, "CURRENT").read_text().strip() == names[-1]
    reader.close()


def test_failed_rebuild_keeps_the_old_index(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:5])

    def broken() -> Iterator[SearchDoc]:
        yield DOCS[0]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        fresh.rebuild(broken())
    assert fresh.search(SearchQuery()).total == 5
    assert not [e for e in os.listdir(fresh.path) if e.startswith(".new-")]


@pytest.mark.slow
def test_rebuild_in_two_processes(tmp_path: Path, backend: WhooshBackend) -> None:
    parallel = WhooshBackend(str(tmp_path / "index"), build_procs=2)
    assert parallel.rebuild(DOCS) == len(DOCS)
    for case in CASES[:20]:
        check_case(parallel, case)
    assert parallel.all_ids_with_stamp() == backend.all_ids_with_stamp()
    parallel.close()


# --- locking and broken indexes -------------------------------------------------------------

HOLD_WRITER = textwrap.dedent(
    """
    import sys
    from whoosh import index
    ix = index.open_dir(sys.argv[1])
    writer = ix.writer()
    print("locked", flush=True)
    sys.stdin.read()
    writer.cancel()
    """
)

HOLD_LOCK = textwrap.dedent(
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


def hold(script: str, path: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.wait(timeout=30)
    proc.stdout.close()


@pytest.mark.slow
def test_index_busy_when_another_process_holds_the_whoosh_writer(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:3])
    live = os.path.join(fresh.path, str(fresh.health()["index"]))
    proc = hold(HOLD_WRITER, live)
    try:
        with pytest.raises(IndexBusy):
            fresh.index(DOCS[3:4])
        with pytest.raises(IndexBusy):
            fresh.remove([1])
        assert fresh.search(SearchQuery()).total == 3  # reading still works
    finally:
        release(proc)
    fresh.index(DOCS[3:4])
    assert fresh.search(SearchQuery()).total == 4


@pytest.mark.slow
def test_index_busy_during_a_rebuild_elsewhere(fresh: WhooshBackend) -> None:
    fresh.index(DOCS[:3])
    proc = hold(HOLD_LOCK, fresh.path)
    try:
        with pytest.raises(IndexBusy):
            fresh.index(DOCS[3:4])
        with pytest.raises(IndexBusy):
            fresh.rebuild(DOCS)
    finally:
        release(proc)
    assert fresh.rebuild(DOCS) == len(DOCS)


def live_dir(b: WhooshBackend) -> Path:
    return Path(b.path, Path(b.path, "CURRENT").read_text().strip())


@pytest.mark.parametrize("damage", ["delete_dir", "empty_dir", "garbage_toc", "bad_pointer"])
def test_broken_index_is_unavailable(fresh: WhooshBackend, damage: str) -> None:
    fresh.index(DOCS[:5])
    assert fresh.search(SearchQuery(text="سوزندوزی")).total == 5
    live = live_dir(fresh)
    if damage == "delete_dir":
        for f in live.iterdir():
            f.unlink()
        live.rmdir()
    elif damage == "empty_dir":
        for f in live.iterdir():
            f.unlink()
    elif damage == "garbage_toc":
        for f in live.glob("*.toc"):
            f.write_bytes(b"\x00not a toc" * 10)
        for f in live.glob("*.seg"):
            f.write_bytes(b"garbage")
    else:
        Path(fresh.path, "CURRENT").write_text("index-does-not-exist\n")
    for backend in (fresh, WhooshBackend(fresh.path)):  # a live instance and a new process
        with pytest.raises(IndexUnavailable):
            backend.search(SearchQuery(text="سوزندوزی"))
        with pytest.raises(IndexUnavailable):
            backend.suggest("سوز")
        assert backend.exists() is False
        health = backend.health()
        assert health["ok"] is False and health["error"]
    # a rebuild repairs it
    assert fresh.rebuild(DOCS[:5]) == 5
    assert fresh.search(SearchQuery(text="سوزندوزی")).total == 5


def test_posting_reader_matches_whoosh(segmented: WhooshBackend) -> None:
    from whoosh.reading import TermNotFound

    with segmented._reading() as view:
        assert view.deleted  # the fixture replaced documents
        for fieldname, term in [
            ("title", "سوزن"),
            ("body", "با"),
            ("stem", "سفال"),
            ("title", "x"),
        ]:
            fast = sorted(set(view.postings(fieldname, term)) - view.deleted)
            slow = []
            for reader, offset in view.leaves:
                with contextlib.suppress(TermNotFound):
                    slow.extend(d + offset for d in reader.postings(fieldname, term).all_ids())
            assert fast == sorted(slow), (fieldname, term)


def test_facets_of_large_sets_by_complement(backend: WhooshBackend) -> None:
    from app.search.whoosh_backend import _count_facets, _facets_of

    with backend._reading() as view:
        for size in (5, 19, 21, 31, 45, 60):
            docs = set(view.live[:size])
            assert _facets_of(view, docs) == _count_facets(view, docs, {})


def test_column_reader_matches_whoosh(segmented: WhooshBackend) -> None:
    from app.search.whoosh_backend import _column_values

    with segmented._reading() as view:
        for reader, _offset in view.leaves:
            slow = list(reader.column_reader("attrs", translate=False))
            assert _column_values(reader, "attrs") == slow
            assert len(slow) == reader.doc_count_all()

"""Every search backend against the fixed Persian catalogue: the same tests, the same
relevance table, on the Whoosh backend and (when the suite runs on PostgreSQL) the PostgreSQL
one. Tests of one backend's machinery (Whoosh segments and files, PostgreSQL tables and locks)
are in ``test_whoosh_backend.py`` and ``test_pg_backend.py``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.search import (
    IndexUnavailable,
    SearchBackend,
    SearchDoc,
    SearchQuery,
    SearchResult,
    doc_stamp,
)
from tests.search.catalogue import BY_ID, PRODUCTS
from tests.search.relevance_cases import CASES, Case
from tests.search.support import (
    DOCS,
    KINDS,
    all_ids,
    check_case,
    dispose,
    make_backend,
    reopen,
    spy_on_typo_lookups,
)


@pytest.fixture(scope="module", params=KINDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchBackend]:
    """The whole catalogue, indexed once per module and backend."""
    b = make_backend(request.param, tmp_path_factory.mktemp("search"))
    assert b.rebuild(DOCS) == len(DOCS)
    yield b
    dispose(b)


@pytest.fixture(params=KINDS)
def fresh(request: pytest.FixtureRequest, tmp_path) -> Iterator[SearchBackend]:  # type: ignore[no-untyped-def]
    """A backend with no index yet."""
    b = make_backend(request.param, tmp_path, lock_timeout=0.3)
    yield b
    dispose(b)


def test_implements_the_protocol(backend: SearchBackend) -> None:
    assert isinstance(backend, SearchBackend)


# --- relevance -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}:{c.query}" for c in CASES])
def test_relevance(backend: SearchBackend, case: Case) -> None:
    check_case(backend, case)


def test_relevance_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.rule for c in CASES}) >= 10


def test_every_product_is_found_by_its_own_title(backend: SearchBackend) -> None:
    for doc in DOCS:
        assert doc.id in backend.search(SearchQuery(text=doc.title, per_page=100)).ids, doc.title


# --- browsing, filters, facets, sorting, pages -----------------------------------------------


def test_empty_query_lists_everything_newest_first(backend: SearchBackend) -> None:
    result = backend.search(SearchQuery(per_page=100))
    assert result.total == len(DOCS)
    assert result.ids == sorted(BY_ID, reverse=True)
    assert result.highlights == {}
    assert result.suggestion is None


def test_category_filter_includes_descendants(backend: SearchBackend) -> None:
    assert set(all_ids(backend, category=12)) == {9, 10, 11, 12, 13, 61}
    handicraft = {p["id"] for p in PRODUCTS if 1 in p["category_ids"]}
    assert set(all_ids(backend, category=1)) == handicraft
    assert set(all_ids(backend, text="سوزن دوزی", category=43)) == {56}
    assert all_ids(backend, category=999) == []


def test_county_sector_price_and_stock_filters(backend: SearchBackend) -> None:
    assert set(all_ids(backend, county="konarak")) == {
        p["id"] for p in PRODUCTS if p["county"] == "konarak"
    }
    assert set(all_ids(backend, sector="tourism")) == set(range(51, 58)) | {59}
    cheap = all_ids(backend, max_price=300_000)
    assert set(cheap) == {p["id"] for p in PRODUCTS if p["price_amount"] <= 300_000}
    band = all_ids(backend, min_price=1_000_000, max_price=1_200_000)
    assert set(band) == {p["id"] for p in PRODUCTS if 1_000_000 <= p["price_amount"] <= 1_200_000}
    # «حصیری» also finds «حصیر» (14, 16); 17 is out of stock
    assert set(all_ids(backend, text="حصیری", in_stock=True)) == {14, 15, 16, 64}
    assert set(all_ids(backend, text="ماهی", county="konarak", sector="food")) == {39}


def test_out_of_range_filters_match_nothing_and_never_raise(backend: SearchBackend) -> None:
    assert all_ids(backend, category=2**70) == []
    assert all_ids(backend, min_price=2**70) == []
    assert len(all_ids(backend, max_price=2**70)) == len(DOCS)
    assert all_ids(backend, county="\x00'; drop table x; --") == []


def facet_counts(ids: list[int], key: str) -> dict[str, int]:
    if key == "category":
        return dict(Counter(str(BY_ID[i]["category_ids"][0]) for i in ids))
    return dict(Counter(BY_ID[i][key] for i in ids))


def test_facets_count_matches(backend: SearchBackend) -> None:
    result = backend.search(SearchQuery(text="سوزن دوزی", per_page=100))
    # every product of the needlework category matches through its category name
    assert set(result.ids) == {1, 2, 3, 4, 5, 6, 7, 8, 56, 63}
    for key in ("category", "county", "sector"):
        assert result.facets[key] == facet_counts(result.ids, key)
    assert result.facets["category"] == {"11": 9, "43": 1}
    assert sum(result.facets["county"].values()) == result.total


def test_each_facet_ignores_its_own_filter(backend: SearchBackend) -> None:
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
    assert both.facets["county"] == facet_counts([1, 2, 3, 4, 5, 6, 7, 8, 63], "county")


def test_browse_facets_cover_the_catalogue(backend: SearchBackend) -> None:
    facets = backend.search(SearchQuery()).facets
    assert sum(facets["category"].values()) == len(DOCS)
    assert facets["sector"] == dict(Counter(p["sector"] for p in PRODUCTS))
    assert list(facets["county"].values()) == sorted(facets["county"].values(), reverse=True)


@pytest.mark.parametrize("text", ["", "سفال", "خرما"])
def test_sorting(backend: SearchBackend, text: str) -> None:
    newest = all_ids(backend, text=text, sort="newest")
    assert newest == sorted(newest, reverse=True)  # higher id = newer
    asc = all_ids(backend, text=text, sort="price_asc")
    prices = [BY_ID[i]["price_amount"] for i in asc]
    assert prices == sorted(prices)
    desc = all_ids(backend, text=text, sort="price_desc")
    prices = [BY_ID[i]["price_amount"] for i in desc]
    assert prices == sorted(prices, reverse=True)
    assert set(newest) == set(asc) == set(desc)


def test_unknown_sort_falls_back_to_relevance(backend: SearchBackend) -> None:
    assert all_ids(backend, text="زعفران", sort="bogus")[0] == 33


@pytest.mark.parametrize("text", ["", "سوزن دوزی"])
def test_pagination(backend: SearchBackend, text: str) -> None:
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


def test_page_arguments_are_clamped(backend: SearchBackend) -> None:
    assert backend.search(SearchQuery(page=0, per_page=-5)).ids == [max(BY_ID)]
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
        "سفال & !گل | (کوزه <-> :*)",
        "'; DROP TABLE document; --",
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
def test_hostile_queries_are_safe(backend: SearchBackend, text: str) -> None:
    result = backend.search(SearchQuery(text=text))
    assert isinstance(result, SearchResult)
    assert result.total >= 0
    for snippet in result.highlights.values():
        assert "<script>" not in snippet
    assert isinstance(backend.suggest(text), list)


def test_field_syntax_is_plain_text(backend: SearchBackend) -> None:
    # «title:سفال» is the two words «title» and «سفال»: nothing has «title»
    assert backend.search(SearchQuery(text="title:سفال")).total == 0
    assert (
        backend.search(SearchQuery(text="سفال:")).total
        == backend.search(SearchQuery(text="سفال")).total
    )


def test_punctuation_only_lists_everything(backend: SearchBackend) -> None:
    assert backend.search(SearchQuery(text="*")).total == len(DOCS)


# --- highlights, did you mean, suggestions ---------------------------------------------------


def test_highlights_for_the_page(backend: SearchBackend) -> None:
    result = backend.search(SearchQuery(text="سوزندوزی", per_page=4))
    assert set(result.highlights) == set(result.ids)
    for snippet in result.highlights.values():
        assert "<mark>" in snippet
    result = backend.search(SearchQuery(text="سوزندوزی", per_page=100))
    assert result.highlights[1] == "رومیزی <mark>سوزن\u200cدوزی</mark> بلوچ"


def test_highlight_prefers_the_description_when_it_matches(backend: SearchBackend) -> None:
    result = backend.search(SearchQuery(text="نام نویسی"))
    assert result.highlights[56] == "برای <mark>نام</mark> <mark>نویسی</mark> تماس بگیرید."
    assert "<mark>نامنویسی</mark>" in result.highlights[55]


def test_highlight_is_escaped(fresh: SearchBackend) -> None:
    fresh.index([SearchDoc(id=1, title="<b>سفال</b>", description="<i>سفال & گل</i>")])
    out = fresh.search(SearchQuery(text="سفال")).highlights[1]
    assert out == "&lt;i&gt;<mark>سفال</mark> &amp; گل&lt;/i&gt;"


def test_a_long_description_is_cut_between_words(fresh: SearchBackend) -> None:
    words = [f"واژه{n}نمونه" for n in range(80)]
    description = " ".join(words[:40]) + "، سفالی دست\u200cساز " + "\n".join(words[40:])
    fresh.index([SearchDoc(id=1, title="کاسه", description=description)])
    out = fresh.search(SearchQuery(text="سفال")).highlights[1]
    assert out.startswith("…") and out.endswith("…") and "<mark>سفالی</mark>" in out
    shown = out.strip("…").replace("<mark>", "").replace("</mark>", "").split()
    assert shown[0] in words and shown[-1] in words  # whole words at both ends


@pytest.mark.parametrize(
    ("typo", "fixed"),
    [("سوزندوری", "سوزندوزی"), ("زعفرن", "زعفران"), ("کلپورگن", "کلپورگان")],
)
def test_did_you_mean(backend: SearchBackend, typo: str, fixed: str) -> None:
    """A one-edit typo is matched as the word at once; with correction off (``exact``) the
    query finds nothing and "did you mean" offers the word."""
    result = backend.search(SearchQuery(text=typo))
    assert result.total > 0
    assert result.corrected == fixed and result.suggestion is None
    assert result.ids == backend.search(SearchQuery(text=fixed)).ids
    literal = backend.search(SearchQuery(text=typo, exact=True))
    assert literal.total == 0 and literal.corrected is None
    assert literal.suggestion == fixed


def test_did_you_mean_keeps_the_known_words(backend: SearchBackend) -> None:
    result = backend.search(SearchQuery(text="زعفرن ممتاز"))
    assert result.total > 0 and result.corrected == "زعفران ممتاز"
    result = backend.search(SearchQuery(text="زعفرن ممتاز", exact=True))
    assert result.total == 0
    assert result.suggestion == "زعفران ممتاز"


def test_a_query_that_finds_nothing_is_answered_with_its_correction(
    backend: SearchBackend,
) -> None:
    """Two edits are too many to match at once, but "did you mean" finds them: the results
    of the correction are shown, saying so."""
    result = backend.search(SearchQuery(text="زعفورن"))  # two edits from «زعفران»
    assert result.corrected == "زعفران"
    assert result.ids == backend.search(SearchQuery(text="زعفران")).ids
    literal = backend.search(SearchQuery(text="زعفورن", exact=True))
    assert literal.total == 0 and literal.suggestion == "زعفران" and literal.corrected is None


def test_did_you_mean_work_is_bounded_for_long_and_many_words(
    backend: SearchBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fuzzy lookup costs in proportion to a word's length: a word too long to be a typo
    of an indexed word is not looked up, and only a few unknown words of a query are."""
    from app.search.normalize import MAX_TYPO_CHARS, MAX_TYPO_LETTERS, MAX_TYPO_WORDS

    asked = spy_on_typo_lookups(backend, monkeypatch)
    assert backend.search(SearchQuery(text="سوزندوری")).corrected == "سوزندوزی"
    assert set(asked) == {"سوزندوری"}  # the spy sees the lookups
    asked.clear()
    for length in (200, 40, MAX_TYPO_CHARS + 1):
        word = ("سوزندوری" * 30)[:length]
        result = backend.search(SearchQuery(text=word))
        assert result.total == 0 and result.ids == [] and result.suggestion is None
    assert asked == []
    many = " ".join("ژغظ" + "پچ" * k for k in range(1, 11))  # ten unknown words
    assert backend.search(SearchQuery(text=many)).total == 0
    assert 0 < len(set(asked)) <= MAX_TYPO_WORDS
    assert sum(map(len, set(asked))) <= MAX_TYPO_LETTERS


def test_no_suggestion_when_results_are_plenty(backend: SearchBackend) -> None:
    assert backend.search(SearchQuery(text="سوزن دوزی")).suggestion is None
    assert backend.search(SearchQuery(text="qqqqqqqq")).suggestion is None


def test_suggest_completes_categories_sellers_and_titles(backend: SearchBackend) -> None:
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


def test_suggest_normalises_the_prefix(backend: SearchBackend) -> None:
    assert backend.suggest("ترشي") == backend.suggest("ترشی")
    assert "ترشی انبه" in backend.suggest("ترشي")


@pytest.mark.parametrize("prefix", ["", " ", "س", "*", "🧶", "title:", "zzzz"])
def test_suggest_unusable_prefix(backend: SearchBackend, prefix: str) -> None:
    assert backend.suggest(prefix) == []


def test_suggest_limit(backend: SearchBackend) -> None:
    assert len(backend.suggest("سو", limit=3)) == 3
    assert backend.suggest("سو", limit=0) == []


# --- writing: add, replace, remove, stamps -----------------------------------------------------


def test_missing_index_is_unavailable(fresh: SearchBackend) -> None:
    assert not fresh.exists()
    assert fresh.health()["ok"] is False
    with pytest.raises(IndexUnavailable):
        fresh.search(SearchQuery(text="سفال"))
    with pytest.raises(IndexUnavailable):
        fresh.suggest("سفال")
    with pytest.raises(IndexUnavailable):
        fresh.all_ids_with_stamp()
    fresh.remove([1])  # nothing to remove from: no error, no index created
    assert not fresh.exists()


def test_clear_creates_an_empty_index(fresh: SearchBackend) -> None:
    fresh.clear()
    assert fresh.exists()
    result = fresh.search(SearchQuery())
    assert result.total == 0 and result.ids == []
    assert result.facets == {"category": {}, "county": {}, "sector": {}}
    assert fresh.suggest("سفال") == []
    typo = fresh.search(SearchQuery(text="سفالل"))
    assert typo.total == 0 and typo.suggestion is None


def test_clear_empties_an_index(fresh: SearchBackend) -> None:
    fresh.index(DOCS[:5])
    fresh.clear()
    assert fresh.health()["docs"] == 0
    assert fresh.all_ids_with_stamp() == {}
    assert fresh.search(SearchQuery(text="سوزندوزی")).suggestion is None


def test_same_id_twice_in_one_batch(fresh: SearchBackend) -> None:
    fresh.index([DOCS[0], replace(DOCS[0], title="کوزه آبی", description="")])
    assert fresh.health()["docs"] == 1
    assert fresh.search(SearchQuery(text="کوزه")).ids == [1]


def test_index_update_remove(fresh: SearchBackend) -> None:
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


def test_stamps(fresh: SearchBackend) -> None:
    fresh.index(DOCS[:5])
    stamps = fresh.all_ids_with_stamp()
    assert stamps == {d.id: doc_stamp(d) for d in DOCS[:5]}
    changed = replace(DOCS[0], price_amount=DOCS[0].price_amount + 1)
    assert doc_stamp(changed) != doc_stamp(DOCS[0])
    fresh.index([changed])
    assert fresh.all_ids_with_stamp()[changed.id] == doc_stamp(changed)


def test_a_write_that_must_not_create_an_index_leaves_a_missing_one_missing(
    fresh: SearchBackend,
) -> None:
    with pytest.raises(IndexUnavailable):
        fresh.index(DOCS[:2], create=False)
    assert not fresh.exists()
    fresh.rebuild(DOCS[:3])
    fresh.index(DOCS[3:5], create=False)  # an index that exists is written as usual
    assert fresh.search(SearchQuery()).total == 5


def test_a_degraded_mark_is_seen_everywhere_until_a_rebuild(fresh: SearchBackend) -> None:
    fresh.mark_degraded("nothing to mark yet")  # no index at all: never raises, marks nothing
    assert fresh.degraded() is None
    fresh.rebuild(DOCS[:3])
    assert fresh.degraded() is None
    fresh.mark_degraded("writing failed: EOFError('Ran out of input') at 100% ;--")
    other = reopen(fresh)  # as another process
    try:
        for backend in (fresh, other):
            assert "writing failed" in (backend.degraded() or "")
        fresh.index(DOCS[3:4])  # a write does not clear it
        assert other.degraded() is not None
        assert other.rebuild(DOCS[:4]) == 4
        assert fresh.degraded() is None and other.degraded() is None
    finally:
        other.close()  # type: ignore[attr-defined]


def test_other_instance_sees_commits(fresh: SearchBackend) -> None:
    fresh.index(DOCS[:3])
    other = reopen(fresh)
    assert other.search(SearchQuery()).total == 3
    fresh.index(DOCS[3:6])
    fresh.remove([1])
    assert other.search(SearchQuery()).total == 5
    assert 1 not in all_ids(other)
    other.close()  # type: ignore[attr-defined]


def test_odd_documents_are_stored(fresh: SearchBackend) -> None:
    """Text PostgreSQL refuses (NUL), a word longer than a lexeme may be, an empty document:
    indexing never fails because of what a seller typed."""
    odd = [
        SearchDoc(id=1, title="سفال\x00ی", description="کوزه \x00 آبی"),
        SearchDoc(id=2, title="گلدان " + "ب" * 5000, description="x" * 200_000),
        SearchDoc(id=3, title=""),
    ]
    fresh.index(odd)
    assert fresh.health()["docs"] == 3
    assert fresh.search(SearchQuery(text="گلدان")).ids == [2]
    assert fresh.search(SearchQuery(text="آبی")).ids == [1]


# --- rebuild ----------------------------------------------------------------------------------


def test_rebuild_replaces_the_index_for_every_reader(fresh: SearchBackend) -> None:
    fresh.index(DOCS[:5])
    reader = reopen(fresh)
    assert reader.search(SearchQuery()).total == 5
    for size in (10, 20, 30):
        assert fresh.rebuild(DOCS[:size]) == size
        assert reader.search(SearchQuery()).total == size  # the other process follows
    assert fresh.all_ids_with_stamp() == {d.id: doc_stamp(d) for d in DOCS[:30]}
    reader.close()  # type: ignore[attr-defined]


def test_failed_rebuild_keeps_the_old_index(fresh: SearchBackend) -> None:
    fresh.index(DOCS[:5])

    def broken() -> Iterator[SearchDoc]:
        yield DOCS[0]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        fresh.rebuild(broken())
    assert fresh.search(SearchQuery()).total == 5
    fresh.index(DOCS[5:6])  # and writers are not left locked out
    assert fresh.search(SearchQuery()).total == 6

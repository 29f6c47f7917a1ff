"""Unit tests of the Persian normaliser, tokeniser, stemmer and highlighter."""

from __future__ import annotations

import pytest

from app.search.normalize import (
    analyze,
    fold,
    highlight,
    index_forms,
    matched_words,
    normalize,
    parse_query,
    parts,
    snippet,
    stems,
    words,
)

ZWNJ = "\u200c"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Arabic yeh, alef maksura, yeh with hamza, kaf
        ("علي", "علی"),
        ("مصطفى", "مصطفی"),
        ("پائیز", "پاییز"),
        ("كتاب", "کتاب"),
        # teh marbuta, heh with yeh, heh + hamza above, heh goal / doachashmee
        ("مجموعة", "مجموعه"),
        ("خانۀ", "خانه"),
        ("خانه\u0654", "خانه"),
        ("خانه\u200c\u0654", "خانه"),
        ("\u06c1\u06be", "هه"),
        # alef forms, waw with hamza
        ("أحمد إمام ٱلله", "احمد امام الله"),
        ("آب", "اب"),
        ("مسؤول", "مسوول"),
        # diacritics and superscript alef, tatweel
        ("عَسَلِ طَبیعی", "عسل طبیعی"),
        ("رحمٰن", "رحمن"),
        ("گلیـــم", "گلیم"),
        # digits
        ("۱۲۳۴۵۶۷۸۹۰", "1234567890"),
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("۳٫۵", "3.5"),
        # presentation forms and ligatures
        ("ﻛﺘﺎﺏ", "کتاب"),
        ("ﺻﺎﺑﻮﻥ", "صابون"),
        ("ﻻ", "لا"),
        # Latin case folding, full-width, accents
        ("Handmade KILIM", "handmade kilim"),
        ("Ｃａｆé", "cafe"),
        # spaces
        ("a\u00a0b", "a b"),
        ("a\u2002\u2009b", "a b"),
        ("a\u200bb", "a b"),
        ("a\u202fb\u3000c", "a b c"),
        ("  a \t\n b  ", "a b"),
        # bidi marks vanish
        ("\u200fسلام\u200e", "سلام"),
        ("\u202bمتن\u202c", "متن"),
        ("", ""),
    ],
)
def test_normalize_rules(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "نام\u200cنویسی",
        "نام\u034fنویسی",
        "نام\u200dنویسی",
        "نام\u00adنویسی",
        "نام\u200c\u200cنویسی",
        "نام\u2060نویسی",
    ],
)
def test_every_joiner_becomes_one_zwnj(raw: str) -> None:
    assert normalize(raw) == "نام\u200cنویسی"


def test_joiner_next_to_a_space_or_edge_is_dropped() -> None:
    assert normalize("نرم\u034f افزار") == "نرم افزار"
    assert normalize("\u200cکتاب\u200c") == "کتاب"
    assert normalize("کتاب \u200cها") == "کتاب ها"


def test_normalize_is_idempotent() -> None:
    text = "كتاب\u200c\u200cهاي  ۱۲ عَسَل\u00a0ﻛﺘﺎﺏ \u034f"
    once = normalize(text)
    assert normalize(once) == once


def test_fold_removes_joiners() -> None:
    assert fold("نام\u200cنویسی") == fold("نام\u034fنویسی") == fold("نامنویسی") == "نامنویسی"


def test_parts_and_words() -> None:
    found = parts("نام\u200cنویسی، ۵۰۰گرم")
    assert [p.text for p in found] == ["نام", "نویسی", "500", "گرم"]
    assert [p.word_start for p in found] == [True, False, True, False]
    assert [p.run_start for p in found] == [True, False, True, False]
    assert words("نام\u200cنویسی ها!") == ["نامنویسی", "ها"]


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("کتابها", ["کتاب"]),
        ("کتابهای", ["کتاب"]),
        ("کتابهایی", ["کتاب"]),
        ("ترشیها", ["ترشی", "ترش"]),
        ("خرمای", ["خرما"]),
        ("خرمایی", ["خرما"]),
        ("دارویی", ["دارو"]),
        ("سفالی", ["سفال"]),
        ("گیاهی", ["گیاه"]),
        ("خانهی", ["خانه"]),
        ("ماهیها", ["ماهی"]),
        # never reduced
        ("ماهی", []),
        ("چای", []),
        ("قالی", []),
        ("کتاب", []),
        # too short to trust
        ("بها", []),
        ("گلی", []),
        ("ی", []),
        ("", []),
    ],
)
def test_stems(token: str, expected: list[str]) -> None:
    assert stems(token) == expected


def test_stems_exclude_the_token_itself() -> None:
    for token in ["کتابها", "سفالی", "خرمای", "ماهی"]:
        assert token not in stems(token)


@pytest.mark.parametrize("spelling", ["نام\u200cنویسی", "نامنویسی", "نام نویسی", "نام\u034fنویسی"])
def test_compound_spellings_share_the_joined_term(spelling: str) -> None:
    exact, _ = index_forms(spelling)
    assert "نامنویسی" in exact


def test_index_forms_parts_shingles_and_stems() -> None:
    exact, reduced = index_forms("کتاب\u200cهای قدیمی")
    assert "کتاب" in exact
    assert "کتابهای" in exact  # the joined compound
    assert "های" not in exact  # a bound suffix is not a term of its own
    assert "قدیمی" in exact
    assert "کتاب" in reduced and "قدیم" in reduced
    assert analyze("کتاب\u200cهای قدیمی") == exact + reduced


def test_index_forms_three_part_compound_is_joined() -> None:
    exact, _ = index_forms("اقامتگاه\u200cهای\u200cمان")
    assert "اقامتگاههایمان" in exact


def test_shingles_do_not_cross_punctuation() -> None:
    exact, _ = index_forms("نام. نویسی")
    assert "نامنویسی" not in exact


def test_parse_query_words_and_forms() -> None:
    q = parse_query("نام نویسی")
    assert [w.word for w in q] == ["نام", "نویسی"]
    assert "نامنویسی" in q[0].exact and "نامنویسی" in q[1].exact
    assert [w.word for w in parse_query("نامنویسی")] == ["نامنویسی"]


def test_parse_query_drops_stopwords_but_keeps_their_joins() -> None:
    assert [w.word for w in parse_query("صابون با روغن")] == ["صابون", "روغن"]
    assert [w.word for w in parse_query("و")] == ["و"]  # nothing else: kept
    q = parse_query("سیستان و بلوچستان")
    assert [w.word for w in q] == ["سیستان", "بلوچستان"]
    assert "وبلوچستان" in q[1].exact  # finds «سیستان وبلوچستان»


def test_parse_query_joins_only_within_a_run() -> None:
    assert "سفالکاسه" not in parse_query("سفال، کاسه")[0].exact
    assert "سفالکاسه" in parse_query("سفال کاسه")[0].exact


def test_parse_query_glues_suffixes() -> None:
    assert [w.word for w in parse_query("کتاب ها")] == ["کتابها"]
    assert [w.word for w in parse_query("کتاب\u200cها")] == ["کتابها"]
    q = parse_query("خانه ای")
    assert q[0].word == "خانهای" and "خانه" in q[0].loose
    assert "کتاب" in parse_query("کتاب ها")[0].loose


@pytest.mark.parametrize(
    "hostile",
    [
        "title:سفال OR body:*",
        "*",
        '"unbalanced',
        "((((",
        "!!!",
        "🧶🏺",
        "\x00\x01",
        "a" * 10_000,
        "سفال " * 5_000,
        "\ud800",
    ],
)
def test_parse_query_never_raises(hostile: str) -> None:
    q = parse_query(hostile)
    assert len(q) <= 32
    for w in q:
        assert w.word and all(w.exact) and all(w.loose)


def test_parse_query_caps_and_dedupes() -> None:
    many = " ".join(f"واژه{i}" for i in range(100))
    assert len(parse_query(many)) == 32
    assert len(parse_query("سفال سفال")) == 1
    assert parse_query("field:value")[0].word == "field"


def test_highlight_marks_original_text_escaped() -> None:
    html = highlight("ثبت نام‌نویسی <b>و</b> سفالی‌ها", "نامنویسی سفال")
    assert html == (
        "ثبت <mark>نام\u200cنویسی</mark> &lt;b&gt;و&lt;/b&gt; <mark>سفالی\u200cها</mark>"
    )


def test_highlight_across_spellings_and_marks() -> None:
    assert highlight("كيف سوزن͏دوزي", "کیف") == "<mark>كيف</mark> سوزن͏دوزي"
    assert highlight("عَسَلِ کوه", "عسل") == "<mark>عَسَلِ</mark> کوه"
    assert highlight("بسته ۵۰۰ گرمی", "500") == "بسته <mark>۵۰۰</mark> گرمی"
    assert highlight("نام نویسی", "نامنویسی") == "<mark>نام</mark> <mark>نویسی</mark>"
    assert highlight("ﺻﺎﺑﻮﻥ خوب", "صابون") == "<mark>ﺻﺎﺑﻮﻥ</mark> خوب"


def test_highlight_without_match_is_just_escaped() -> None:
    assert highlight("<script>x</script>", "سفال") == "&lt;script&gt;x&lt;/script&gt;"


def test_snippet_windows_long_text() -> None:
    text = "الف " * 100 + "سوزن‌دوزی بلوچ" + " ب" * 100
    out = snippet(text, "سوزندوزی", max_chars=80)
    assert out is not None
    assert out.startswith("…") and out.endswith("…")
    assert "<mark>سوزن\u200cدوزی</mark>" in out
    assert len(out) < 140
    assert snippet("هیچ", "سفال") is None


def test_matched_words_counts_distinct_query_words() -> None:
    assert matched_words("صابون گیاهی", "صابون گیاهی زیتون") == 2
    assert matched_words("صابون‌های خوب", "صابون") == 1
    assert matched_words("", "صابون") == 0


# --- forgiving queries -----------------------------------------------------------------------


def test_ezafe_forms_are_indexed_and_queried_as_the_word_under_them() -> None:
    from app.search.normalize import ezafe_base, title_heads

    assert ezafe_base("خرمای") == "خرما" and ezafe_base("داروی") == "دارو"
    assert ezafe_base("چای") is None and ezafe_base("خرما") is None and ezafe_base("رای") is None
    assert "خرما" in index_forms("خرمای مضافتی")[0]
    assert index_forms("شیرهٔ خرما")[0][:2] == ["شیره", "خرما"]
    assert index_forms("خانه\u200cی ما")[0][0] == "خانه"
    (word,) = parse_query("خرمای")
    assert word.exact == ("خرمای", "خرما") and "خرما" in word.heads
    assert title_heads("خرمای مضافتی") == ["خرمای", "خرما"]
    assert title_heads("شیرهٔ خرما") == ["شیره"]
    assert title_heads("سوزن\u200cدوزی بلوچ") == ["سوزندوزی", "سوزن"]


@pytest.mark.parametrize(
    ("latin", "persian"),
    [
        ("khorma", "خرما"),
        ("sabun", "صابون"),
        ("sofal", "سفال"),
        ("golim", "گلیم"),
        ("gelim", "گلیم"),
        ("shireh", "شیره"),
        ("zeytoon", "زیتون"),
    ],
)
def test_latin_script_persian_is_transliterated(latin: str, persian: str) -> None:
    from app.search.normalize import transliterate

    assert persian in transliterate(latin)


def test_transliteration_is_bounded() -> None:
    from app.search.normalize import transliterate
    from app.search.normalize.latin import MAX_CANDIDATES

    assert transliterate("ab") == () and transliterate("خرما") == () and transliterate("a1b") == ()
    assert transliterate("x" * 40) == ()
    assert 0 < len(transliterate("sesezotoha")) <= MAX_CANDIDATES


def test_synonyms_widen_a_query_word_both_by_its_form_and_its_stems() -> None:
    synonyms = {"ظرف": ("ظروف",), "ترشی": ("ترشیجات",)}
    (word,) = parse_query("ظرف", synonyms=synonyms)
    assert "ظروف" in word.loose and word.exact == ("ظرف",)
    (word,) = parse_query("ترشی\u200cها", synonyms=synonyms)  # found by its stem
    assert "ترشیجات" in word.loose


def test_english_plurals_are_stemmed() -> None:
    assert stems("soaps") == ["soap"] and stems("potteries") == ["pottery"]
    assert stems("dishes") == ["dish"] and stems("glass") == [] and stems("500") == []


@pytest.mark.parametrize("length", [40, 80, 120, 160])
def test_snippets_are_cut_between_words(length: int) -> None:
    words_before = " ".join(f"واژه{n}" for n in range(60))
    text = f"{words_before} سفالی {words_before}\nپایان"
    out = snippet(text, "سفال", max_chars=length)
    assert out is not None and "<mark>سفالی</mark>" in out
    body = out.strip("…")
    kept = body.replace("<mark>", "").replace("</mark>", "")
    assert kept in text
    start = text.index(kept)
    end = start + len(kept)
    assert start == 0 or not text[start - 1].isalnum()  # starts at a word
    assert end == len(text) or not text[end].isalnum()  # ends at a word's end


def test_a_snippet_of_one_endless_word_still_shows_the_match() -> None:
    text = "الف" * 200 + " سفال " + "ب" * 400
    out = snippet(text, "سفال", max_chars=60)
    assert out is not None and "<mark>سفال</mark>" in out

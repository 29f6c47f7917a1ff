"""Relevance cases over ``tests.search.catalogue``, independent of the backend.

Each case is ``(rule, query, expected, first, absent)``:

- every id in ``expected`` must be among the results;
- if ``first`` is true, the top ``len(expected)`` results must be exactly ``expected``
  (in any order);
- no id in ``absent`` may be among the results.

The same table can be run against any :class:`app.search.backend.SearchBackend`.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    rule: str
    query: str
    expected: tuple[int, ...]
    first: bool = False
    absent: tuple[int, ...] = ()


ZWNJ, CGJ, NBSP = "\u200c", "\u034f", "\u00a0"
SYNONYMS = {
    "ظروف": ("ظرف",),
    "ظرف": ("ظروف",),
    "ترشیجات": ("ترشی",),
    "ترشی": ("ترشیجات",),
    "لباس": ("پیراهن",),
    "پیراهن": ("لباس",),
}
"""The staff's synonyms every case is searched with (both ways, as the shop reads them)."""
NEEDLEWORK = (1, 2, 3, 4, 5, 6, 7, 56)

CASES: list[Case] = [
    # joiners: ZWNJ, none, space, CGJ, soft hyphen, ZWJ, joiner before a space
    Case("joiner", f"سوزن{ZWNJ}دوزی", NEEDLEWORK),
    Case("joiner", "سوزندوزی", NEEDLEWORK),
    Case("joiner", "سوزن دوزی", NEEDLEWORK),
    Case("joiner", f"سوزن{CGJ}دوزی", NEEDLEWORK),
    Case("joiner", f"پته{ZWNJ}دوزی", (8,)),
    Case("joiner", "پته دوزی", (8,)),
    Case("joiner", "پتهدوزی", (8,)),
    Case("joiner", f"بوم{ZWNJ}گردی", (51, 52, 53)),
    Case("joiner", "بومگردی", (51, 52, 53)),
    Case("joiner", "بوم گردی", (51, 52, 53)),
    Case("joiner", f"نام{ZWNJ}نویسی", (54, 55, 56)),
    Case("joiner", "نامنویسی", (54, 55, 56)),
    Case("joiner", "نام نویسی", (54, 55, 56)),
    Case("joiner", f"دستگاه{ZWNJ}های بافندگی", (57,)),
    Case("joiner", f"پروژه{ZWNJ}هایی", (57,)),
    Case("joiner", f"نرم{ZWNJ}افزار", (59,)),
    Case("joiner", "نرمافزار", (59,)),
    # Arabic yeh / kaf, presentation forms
    Case("arabic", "کیف", (6,)),
    Case("arabic", "كيف", (6,)),
    Case("arabic", "ترشي", (29, 30, 31)),
    Case("arabic", "ترشی لیمو", (31,), first=True),
    Case("presentation", "عروسک پارچه ای", (21,)),
    Case("presentation", "صابون زیتون", (48,), first=True),
    # teh marbuta, heh with yeh / hamza above
    Case("heh", "مجموعه شیرینی", (43,)),
    Case("heh", "جعبه هدیه", (44,), first=True),
    Case("heh", "جعبه چوبی", (44,)),
    Case("heh", "سفره قلمکار", (13,)),
    # hamza and madda forms
    Case("hamza", "آیینه", (24,)),
    Case("hamza", "تامین خرما", (45,)),
    Case("hamza", "تأمین", (45,)),
    # diacritics and tatweel
    Case("diacritics", "عسل طبیعی", (41,), first=True),
    Case("diacritics", "عَسَل", (41,)),
    Case("tatweel", "گلیم", (18, 19)),
    Case("tatweel", "گلیـــم بلوچی", (18,), first=True),
    # digits in three scripts
    Case("digits", "500 گرمی", (28, 33)),
    Case("digits", "۵۰۰ گرمی", (28, 33)),
    Case("digits", "٥٠٠", (28, 33)),
    Case("digits", "3 عددی", (35, 47)),
    # odd spaces, bidi marks, Latin case
    Case("spaces", "عروسک بلوچی", (20,), first=True),
    Case("spaces", f"عروسک{NBSP}بلوچی", (20,), first=True),
    Case("bidi", "گردنبند نقره", (22,), first=True),
    Case("latin", "handmade", (19,)),
    Case("latin", "KILIM", (19,)),
    # plurals and ezafe
    Case("stem", "کوزه", (11,)),
    Case("stem", "کوزه ها", (11,)),
    Case("stem", "بشقاب", (12,)),
    Case("stem", f"ترشی{ZWNJ}ها", (29, 30, 31)),
    Case("stem", "خرما", (25, 26, 27, 28, 45)),
    Case("stem", "خرمای", (25,), first=True),
    Case("stem", "سفال", (9, 10, 11, 12, 13)),
    Case("stem", f"صابون{ZWNJ}های گیاهی", (46, 47)),
    Case("stem", "گیاهی", (46, 47, 18)),
    # «ماهی» (fish) is never reduced to «ماه» (moon)
    Case("stem", "ماهی", (34, 37, 38, 39), first=True, absent=(23, 42)),
    Case("stem", "ماه", (23, 42), absent=(37, 38, 39)),
    # ranking: exact title word before stems and before description-only matches
    Case("ranking", "سفالی", (10, 11), first=True),
    Case("ranking", "زعفران", (33,), first=True),
    Case("ranking", "کلوچه", (58,), first=True),
    # the ezafe form «خرمای» is the word itself, and a title's head (its first word) ranks
    # first: dates («خرمای مضافتی») above date syrup («شیره خرما»)
    Case("ranking", "خرما", (25,), first=True),
    Case("ranking", "خرما", (25, 27, 28, 45), first=True),
    Case("ranking", "اقامتگاه", (51, 52), first=True),
    Case("ranking", "ماهی دودی", (38,), first=True),
    # function words are not required
    Case("stopwords", "صابون با روغن زیتون", (46, 48)),
    Case("stopwords", "ماه و ستاره", (23,), first=True),
    # category and seller names are searchable
    Case("meta", "کلپورگان", (9, 10, 11, 12, 13, 55)),
    Case("meta", "حصیربافی", (14, 15, 16, 17)),
    Case("meta", "صیادان", (37, 38, 39, 40)),
    # one-edit typos in words of four letters or more are matched as the closest word
    Case("typo", "خرمل", (25,), first=True),
    Case("typo", "خرمل", (25, 26, 27, 28, 45)),
    Case("typo", "صابن", (46, 47, 48)),
    Case("typo", "گلبم", (18, 19)),
    Case("typo", "گلدون", (9,), first=True),
    Case("typo", "کلاح", (64,), first=True),
    Case("typo", "کلاح حصیری", (64,), first=True),
    # English category paths and English titles
    Case("english", "pottery", (9, 10, 11, 12, 13, 61)),
    Case("english", "soap", (46, 47, 48)),
    Case("english", "soaps", (46, 47, 48)),
    Case("english", "dates", (25, 26, 27, 28)),
    Case("english", "Olive soap", (48,), first=True),
    Case("english", "mazafati", (25,), first=True),
    # Persian in Latin letters
    Case("finglish", "khorma", (25,), first=True),
    Case("finglish", "khorma", (25, 26, 27, 28, 45)),
    Case("finglish", "sabun", (46, 47, 48)),
    Case("finglish", "sofal", (9, 10, 11, 12, 13)),
    Case("finglish", "golim", (18, 19)),
    Case("finglish", "gelim", (18, 19)),
    Case("finglish", "khorma shireh", (27,), first=True),
    # synonyms and broken plurals (applied at query time)
    Case("synonym", "ظرف", (61,), first=True),
    Case("synonym", "ظرف سفالی", (61,), first=True),
    Case("synonym", "ترشیجات", (29, 30, 31, 62)),
    Case("synonym", "ترشی", (29, 30, 31, 62)),
    Case("synonym", "لباس بلوچی", (63,), first=True),
    # ezafe forms rank like the base word
    Case("ezafe", "شیرهٔ خرما", (27,), first=True),
    Case("ezafe", "شیرهٔ خرما", (27,), first=True),
    Case("ezafe", f"خرما{ZWNJ}ی مضافتی", (25,), first=True),
]

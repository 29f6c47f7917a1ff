"""A fixed Persian test catalogue: plain dicts with the fields of ``SearchDoc``.

Spellings are chosen to exercise each normalisation rule (the comment on a product names the
rule). Invisible characters are written as escapes so they can be seen:

    \\u200c ZWNJ   \\u034f CGJ   \\u200d ZWJ   \\u00ad soft hyphen   \\u00a0 NBSP
    \\u200f RLM    \\u200e LRM   \\u0640 tatweel   \\u0654 hamza above

Categories: 1 handicrafts (11 needlework, 12 pottery, 13 mats, 14 kilims, 15 jewellery,
16 dolls), 2 food (21 dates, 22 pickles, 23 spices, 24 seafood, 25 honey, 26 sweets),
3 cosmetics (31 soap, 32 oils, 33 herbal teas, 34 candles), 4 tourism (41 eco-lodges,
42 local tours, 43 workshops).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ZWNJ, CGJ, ZWJ, SHY, NBSP = "\u200c", "\u034f", "\u200d", "\u00ad", "\u00a0"
RLM, LRM, TATWEEL, HAMZA_ABOVE = "\u200f", "\u200e", "\u0640", "\u0654"

CATEGORY_NAMES = {
    1: "صنایع دستی",
    11: f"سوزن{ZWNJ}دوزی",
    12: "سفال",
    13: "حصیربافی",
    14: "گلیم",
    15: "زیورآلات",
    16: "عروسک",
    2: "خوراکی",
    21: "خرما",
    22: "ترشی و شور",
    23: "ادویه",
    24: "دریایی",
    25: "عسل",
    26: "شیرینی",
    3: "آرایشی و بهداشتی",
    31: "صابون",
    32: "روغن",
    33: "دمنوش",
    34: "شمع",
    4: "گردشگری",
    41: f"اقامتگاه بوم{ZWNJ}گردی",
    42: "تور محلی",
    43: "کارگاه آموزشی",
}
PARENT = {c: c // 10 for c in CATEGORY_NAMES if c >= 10}
SECTOR_OF_TOP = {1: "handicraft", 2: "food", 3: "cosmetics", 4: "tourism"}
SELLERS = {
    "maryam": "کارگاه مریم بلوچ",
    "kalpurgan": "سفالگران کلپورگان",
    "nakhl": "حصیربافان نخل",
    "sayyad": "صیادان چابهار",
    "bibi": "آشپزخانه بی‌بی‌گل",
    "golab": "عطاری گلاب",
    "hamun": "اقامتگاه هامون",
}

# (id, title, description, leaf category, seller slug, county, price in rials, in stock)
_ROWS: list[tuple[int, str, str, int, str, str, int, bool]] = [
    # --- needlework: one word spelled five ways (ZWNJ, none, space, CGJ, Arabic letters)
    (
        1,
        f"رومیزی سوزن{ZWNJ}دوزی بلوچ",
        f"رومیزی دست{ZWNJ}دوز با نقش{ZWNJ}های سنتی بلوچ، کار زنان سراوان.",
        11,
        "maryam",
        "saravan",
        4_500_000,
        True,
    ),
    (
        2,
        "کوسن سوزندوزی",
        "کوسن مبل با رنگ های شاد و نخ ابریشم.",
        11,
        "maryam",
        "saravan",
        1_800_000,
        True,
    ),
    (
        3,
        "سجاده سوزن دوزی",
        "سجاده نماز با حاشیه دوزی ظریف.",
        11,
        "maryam",
        "zahedan",
        2_600_000,
        True,
    ),
    (
        4,
        f"قاب سوزن{CGJ}دوزی",
        "قاب دیواری با طرح گل و بته.",
        11,
        "maryam",
        "iranshahr",
        900_000,
        True,
    ),
    (
        5,
        f"شال سوزن{ZWNJ} دوزی شده",
        "شال زنانه سبک و نرم.",
        11,
        "maryam",
        "khash",
        3_200_000,
        False,
    ),
    (
        6,
        "كيف سوزن\u200cدوزي",
        "کیف دستی زنانه با بند چرمی.",
        11,
        "maryam",
        "zahedan",
        2_100_000,
        True,
    ),
    (
        7,
        f"روسری سوزن{SHY}دوزی",
        "روسری نخی با حاشیه سوزن دوزی.",
        11,
        "maryam",
        "sarbaz",
        1_500_000,
        True,
    ),
    (8, f"جلیقه پته{ZWJ}دوزی", "جلیقه محلی با نقش پته.", 11, "maryam", "khash", 2_800_000, True),
    # --- pottery: سفال / سفالی / plurals with and without joiner
    (
        9,
        "گلدان سفال کلپورگان",
        "گلدان دست ساز از گل رس روستای کلپورگان.",
        12,
        "kalpurgan",
        "saravan",
        1_200_000,
        True,
    ),
    (10, "کاسه سفالی", "کاسه کوچک برای ماست و سالاد.", 12, "kalpurgan", "saravan", 450_000, True),
    (11, f"کوزه{ZWNJ}های سفالی", "دو کوزه برای آب خنک.", 12, "kalpurgan", "saravan", 950_000, True),
    (
        12,
        "بشقابهای نقش دار",
        "بشقاب های سفالی با نقش های کهن کلپورگان.",
        12,
        "kalpurgan",
        "saravan",
        1_600_000,
        True,
    ),
    (
        13,
        f"سفر{TATWEEL}{TATWEEL}ه قلمکار",
        "سفره پارچه ای با نقش قلمکار.",
        12,
        "kalpurgan",
        "zahedan",
        700_000,
        True,
    ),
    # --- palm-leaf mats
    (
        14,
        "حصیر برگ نخل",
        "حصیر بافته شده از برگ درخت نخل، مناسب ایوان.",
        13,
        "nakhl",
        "chabahar",
        600_000,
        True,
    ),
    (15, "سبد حصیری", "سبد نان و میوه.", 13, "nakhl", "konarak", 350_000, True),
    (
        16,
        "زیرانداز حصیر دستباف",
        "زیرانداز بزرگ برای سفر و پیک نیک.",
        13,
        "nakhl",
        "chabahar",
        1_100_000,
        True,
    ),
    (
        17,
        "بادبزن حصیری",
        "بادبزن سبک برای روزهای گرم جنوب.",
        13,
        "nakhl",
        "konarak",
        150_000,
        False,
    ),
    # --- kilims, dolls, jewellery
    (
        18,
        f"گلی{TATWEEL}{TATWEEL}{TATWEEL}م بلوچی",
        "گلیم پشمی دستباف با رنگ های گیاهی.",
        14,
        "maryam",
        "zahedan",
        9_500_000,
        True,
    ),
    (
        19,
        "Handmade Kilim گلیم",
        "Wool KILIM, hand woven in Sistan.",
        14,
        "maryam",
        "zabol",
        12_000_000,
        True,
    ),
    (
        20,
        f"عروسک{NBSP}بلوچی",
        "عروسک پارچه ای با لباس محلی.",
        16,
        "maryam",
        "iranshahr",
        400_000,
        True,
    ),
    (21, "ﻋﺮﻭﺳﮏ ﭘﺎﺭﭼﻪ ﺍﯼ", "عروسک با موهای کاموایی.", 16, "maryam", "iranshahr", 380_000, True),
    (
        22,
        f"{RLM}گردنبند{RLM} {LRM}نقره{LRM}",
        "گردنبند نقره با سنگ عقیق.",
        15,
        "maryam",
        "zahedan",
        5_400_000,
        True,
    ),
    (
        23,
        "گردنبند ماه و ستاره",
        "آویز نقره به شکل ماه و ستاره.",
        15,
        "maryam",
        "zahedan",
        3_300_000,
        True,
    ),
    (24, "آئینه خاتم", "آینه کوچک با قاب خاتم.", 15, "maryam", "zabol", 2_000_000, True),
    # --- dates: ezafe «خرمای», plain, as a modifier
    (
        25,
        "خرمای مضافتی سراوان",
        "خرمای تازه و شیرین، بسته یک کیلویی.",
        21,
        "bibi",
        "saravan",
        1_300_000,
        True,
    ),
    (26, "رطب کلوته", "خرما رطب نرم، برداشت همین فصل.", 21, "bibi", "sarbaz", 1_700_000, True),
    (27, "شیره خرما", "شیره غلیظ خرما بدون شکر افزوده.", 21, "bibi", "sarbaz", 800_000, True),
    (28, "بسته 500 گرمی خرما", "خرمای خشک مناسب سفر.", 21, "bibi", "khash", 650_000, True),
    # --- pickles: plurals, Arabic yeh
    (
        29,
        "ترشی انبه",
        "ترشی انبه تند به سبک جنوب با ادویه محلی.",
        22,
        "bibi",
        "chabahar",
        550_000,
        True,
    ),
    (30, f"ترشی{ZWNJ}های محلی", "مجموعه سه ترشی خانگی.", 22, "bibi", "iranshahr", 900_000, True),
    (31, "ترشي ليمو", "ترشی لیموی عمانی.", 22, "bibi", "chabahar", 480_000, True),
    (32, "انبه شور", "انبه کال شور، خوراک محلی.", 22, "bibi", "konarak", 420_000, True),
    # --- spices: Persian and Arabic-Indic digits
    (33, "بسته ۵۰۰ گرمی زعفران", "زعفران سرگل ممتاز.", 23, "golab", "zahedan", 6_500_000, True),
    (
        34,
        "ادویه مخصوص ماهی",
        "ترکیب ادویه برای ماهی و میگو.",
        23,
        "bibi",
        "chabahar",
        300_000,
        True,
    ),
    (35, "فلفل سیاه", "فلفل سیاه آسیاب شده، بسته ٣ عددی.", 23, "golab", "zahedan", 350_000, True),
    (36, "زردچوبه", "زردچوبه خالص محلی.", 23, "golab", "iranshahr", 250_000, True),
    # --- seafood: «ماهی» must not turn into «ماه»
    (37, "ماهی خشک", "ماهی خشک شده به روش سنتی صیادان.", 24, "sayyad", "chabahar", 1_900_000, True),
    (
        38,
        "ماهی دودی چابهار",
        "ماهی دودی با چوب درخت کنار.",
        24,
        "sayyad",
        "chabahar",
        2_300_000,
        True,
    ),
    (39, f"ماهی{ZWNJ}های شور جنوب", "مهیاوه و ماهی شور.", 24, "sayyad", "konarak", 1_400_000, True),
    (40, "میگوی خشک", "میگو خشک شده بدون نمک اضافه.", 24, "sayyad", "konarak", 2_900_000, True),
    # --- honey and sweets: diacritics, «ة», «ۀ», hamza forms
    (41, "عَسَلِ طبیعیِ کوهستان", "عسل چند گیاه از کوه تفتان.", 25, "golab", "khash", 3_800_000, True),
    (42, "شمع ماه", "شمع دست ساز به شکل ماه.", 34, "golab", "zahedan", 450_000, True),
    (
        43,
        "مجموعة شیرینی سنتی",
        "کلوچه و حلوای خانگی با زعفران و هل.",
        26,
        "bibi",
        "zahedan",
        750_000,
        True,
    ),
    (
        44,
        "جعبۀ هدیه",
        f"جعبه{HAMZA_ABOVE} چوبی برای هدیه با شیرینی محلی.",
        26,
        "bibi",
        "zabol",
        1_000_000,
        True,
    ),
    (45, "حلوای خرما", "تأمین خرما از نخلستان های سراوان.", 26, "bibi", "saravan", 600_000, True),
    # --- cosmetics: soaps and oils
    (
        46,
        "صابون گیاهی",
        "صابون دست ساز با روغن زیتون و گیاهان معطر.",
        31,
        "golab",
        "zahedan",
        220_000,
        True,
    ),
    (
        47,
        f"صابون{ZWNJ}های گیاهی دست{ZWNJ}ساز",
        "پک ٣ عددی صابون.",
        31,
        "golab",
        "zahedan",
        600_000,
        True,
    ),
    (48, "ﺻﺎﺑﻮﻥ زیتون", "صابون روغن زیتون بدون عطر.", 31, "golab", "zabol", 240_000, False),
    (49, "روغن کنجد", "روغن کنجد پرس سرد.", 32, "golab", "zabol", 520_000, True),
    (
        50,
        f"دمنوش گل{ZWNJ}گاوزبان",
        "گل گاوزبان خشک برای دمنوش آرام بخش.",
        33,
        "golab",
        "khash",
        480_000,
        True,
    ),
    # --- tourism: eco-lodge spelled three ways, registration spelled three ways
    (
        51,
        f"اقامتگاه بوم{ZWNJ}گردی",
        "اتاق سنتی با صبحانه محلی در روستا.",
        41,
        "hamun",
        "zabol",
        2_500_000,
        True,
    ),
    (
        52,
        "اقامتگاه بومگردی کنار دریا",
        "کلبه چوبی نزدیک ساحل.",
        41,
        "hamun",
        "chabahar",
        3_500_000,
        True,
    ),
    (
        53,
        "اقامت در روستای بوم گردی",
        "سه شب اقامت با غذای محلی.",
        41,
        "hamun",
        "saravan",
        4_000_000,
        True,
    ),
    (
        54,
        "تور یک روزه دره ستارگان",
        "نام\u200cنویسی تا یک روز پیش از سفر.",
        42,
        "hamun",
        "chabahar",
        1_200_000,
        True,
    ),
    (
        55,
        "کارگاه آموزشی سفالگری",
        "نامنویسی در سامانه و پرداخت آنلاین.",
        43,
        "kalpurgan",
        "saravan",
        2_000_000,
        True,
    ),
    (
        56,
        "کارگاه سوزن دوزی",
        "برای نام نویسی تماس بگیرید.",
        43,
        "maryam",
        "saravan",
        1_500_000,
        True,
    ),
    (
        57,
        f"دوره بازاریابی دستگاه{CGJ}های بافندگی",
        "آشنایی با پروژههایی که به بازار وصل شدند.",
        43,
        "nakhl",
        "iranshahr",
        800_000,
        True,
    ),
    # --- ranking: a word in the title vs the same word only in the description
    (58, "کلوچه محلی", "کلوچه خانگی با زعفران و گلاب.", 26, "bibi", "zahedan", 300_000, True),
    (
        59,
        "دوره نرم\u034f افزار حسابداری",
        "آموزش نرم افزار برای فروشندگان.",
        43,
        "hamun",
        "zabol",
        1_000_000,
        True,
    ),
    (60, "شمع معطر", "شمع با رایحه گل محمدی.", 34, "golab", "zahedan", 350_000, True),
]


def _ancestry(leaf: int) -> list[int]:
    out = [leaf]
    while out[-1] in PARENT:
        out.append(PARENT[out[-1]])
    return out


def _path(leaf: int) -> str:
    return " > ".join(CATEGORY_NAMES[c] for c in reversed(_ancestry(leaf)))


START = datetime(2024, 3, 20, 8, 0, tzinfo=UTC)

PRODUCTS: list[dict] = [
    {
        "id": pid,
        "title": title,
        "description": description,
        "category_path": _path(leaf),
        "category_ids": _ancestry(leaf),
        "seller_name": SELLERS[seller],
        "seller_slug": seller,
        "county": county,
        "sector": SECTOR_OF_TOP[_ancestry(leaf)[-1]],
        "price_amount": price,
        "created_at": START + timedelta(days=pid),
        "in_stock": in_stock,
    }
    for pid, title, description, leaf, seller, county, price, in_stock in _ROWS
]
"""The catalogue; product ``id`` n was created ``n`` days after ``START`` (higher id = newer)."""

BY_ID = {p["id"]: p for p in PRODUCTS}

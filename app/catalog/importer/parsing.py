"""Step 1 of the CSV import: the file format. Bytes in, :class:`RowInput` values out, or
:class:`ImportRejected` for a file that cannot be read as a whole; and the sample file."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from typing import Final

from app.catalog.importer.rows import ImportRejected, RowError, RowInput
from app.catalog.models import Category

MAX_FILE_BYTES: Final = 4 * 1024 * 1024
MAX_ROWS: Final = 2_000
#: Longest value of any cell; a longer one means a broken file (the description cap is lower).
MAX_FIELD_CHARS: Final = 20_000

#: The columns, in the order of the sample file: a listing's, then a variant's (a listing with
#: options has one row per variant, its listing's columns repeated; see :mod:`.validation`).
LISTING_FIELDS: Final = ("title", "description", "category", "price", "stock", "status", "images")
VARIANT_FIELDS: Final = (
    "option1_name", "option1_value", "option2_name", "option2_value", "option3_name",
    "option3_value", "sku", "sale_price",
)  # fmt: skip
FIELDS: Final = LISTING_FIELDS + VARIANT_FIELDS
REQUIRED_FIELDS: Final = ("title", "price")

#: Accepted header names per column, before folding (:func:`fold`).
HEADER_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "title": ("title", "product title", "عنوان", "نام محصول", "نام کالا"),
    "description": ("description", "توضیحات", "شرح"),
    "category": ("category", "category slug", "دسته", "دسته‌بندی", "گروه"),
    "price": ("price", "price toman", "price (toman)", "قیمت", "قیمت (تومان)", "قیمت به تومان"),
    "stock": ("stock", "quantity", "موجودی", "تعداد"),
    "status": ("status", "وضعیت"),
    "images": (
        "images", "image", "image files", "photos", "photo", "تصاویر", "تصویر", "عکس‌ها", "عکس",
    ),
    "option1_name": ("option1_name", "option 1", "گزینه ۱", "گزینه 1", "نام گزینه ۱"),
    "option1_value": ("option1_value", "option 1 value", "مقدار گزینه ۱", "مقدار گزینه 1"),
    "option2_name": ("option2_name", "option 2", "گزینه ۲", "گزینه 2", "نام گزینه ۲"),
    "option2_value": ("option2_value", "option 2 value", "مقدار گزینه ۲", "مقدار گزینه 2"),
    "option3_name": ("option3_name", "option 3", "گزینه ۳", "گزینه 3", "نام گزینه ۳"),
    "option3_value": ("option3_value", "option 3 value", "مقدار گزینه ۳", "مقدار گزینه 3"),
    "sku": ("sku", "کد کالا", "شناسه کالا"),
    "sale_price": ("sale_price", "sale price", "sale price toman", "قیمت حراج", "قیمت تخفیف"),
}  # fmt: skip

#: The headers the sample files use.
PERSIAN_HEADERS: Final = {
    "title": "عنوان",
    "description": "توضیحات",
    "category": "دسته‌بندی",
    "price": "قیمت",
    "stock": "موجودی",
    "status": "وضعیت",
    "images": "تصاویر",
    "option1_name": "گزینه ۱",
    "option1_value": "مقدار گزینه ۱",
    "option2_name": "گزینه ۲",
    "option2_value": "مقدار گزینه ۲",
    "option3_name": "گزینه ۳",
    "option3_value": "مقدار گزینه ۳",
    "sku": "کد کالا",
    "sale_price": "قیمت حراج",
}
_IMAGE_SEPARATORS: Final = re.compile(r"[;|،]")
ARABIC_LETTERS: Final = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
# C0 controls other than tab, newline and carriage return, and DEL: never in a text CSV.
_BINARY: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def fold(text: str) -> str:
    """Compare-form of a header or keyword: case, spaces, ZWNJ, punctuation and ي/ك folded."""
    text = unicodedata.normalize("NFKC", text).translate(ARABIC_LETTERS).casefold()
    return "".join(ch for ch in text if ch.isalnum())


_HEADER_INDEX: Final = {
    fold(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _map_header(record: list[str]) -> list[str | None]:
    columns: list[str | None] = []
    for raw in record:
        name = raw.strip()
        if not name:
            columns.append(None)  # a blank header cell (trailing separators): ignored
            continue
        field_name = _HEADER_INDEX.get(fold(name))
        if field_name is None:
            raise ImportRejected("unknown_column", column=name[:60], known=", ".join(FIELDS))
        if field_name in columns:
            raise ImportRejected("duplicate_column", column=name[:60])
        columns.append(field_name)
    missing = [name for name in REQUIRED_FIELDS if name not in columns]
    if missing:
        raise ImportRejected("missing_columns", columns=", ".join(missing))
    return columns


def _split_images(value: str) -> list[str]:
    names: list[str] = []
    for part in _IMAGE_SEPARATORS.split(value):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names


def _row(line: int, columns: list[str | None], record: list[str]) -> RowInput:
    row = RowInput(line=line)
    if len(record) > len(columns) and any(v.strip() for v in record[len(columns) :]):
        row.errors.append(RowError("row", "extra_values"))
    for name, value in zip(columns, record, strict=False):
        if name == "images":
            row.images = _split_images(value)
        elif name is not None:
            setattr(row, name, value.strip())
    return row


def parse_csv(data: bytes) -> list[RowInput]:
    """The data rows of a CSV file, each with its line number; blank lines are skipped.

    Raises :class:`ImportRejected` for a file that cannot be read as a whole: larger than
    :data:`MAX_FILE_BYTES`, empty, not UTF-8, binary, malformed quoting, a cell longer than
    :data:`MAX_FIELD_CHARS`, more than :data:`MAX_ROWS` rows, an unknown, repeated or missing
    required column, or no data rows. Row-level problems are left to :func:`validate`.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected("too_large", limit=MAX_FILE_BYTES // (1024 * 1024))
    if not data.strip():
        raise ImportRejected("empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 ("Unicode text" in Excel)
        raise ImportRejected("not_utf8")
    if b"\x00" in data:
        raise ImportRejected("binary")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportRejected("not_utf8") from None
    text = text.removeprefix("\ufeff")
    if _BINARY.search(text):
        raise ImportRejected("binary")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    columns: list[str | None] | None = None
    rows: list[RowInput] = []
    end = 0  # last physical line the reader consumed
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if any(len(value) > MAX_FIELD_CHARS for value in record):
                raise ImportRejected("field_too_long", line=start, limit=MAX_FIELD_CHARS)
            if not any(value.strip() for value in record):
                continue
            if columns is None:
                columns = _map_header(record)
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportRejected("too_many_rows", limit=MAX_ROWS)
            rows.append(_row(start, columns, record))
    except csv.Error:
        raise ImportRejected("malformed", line=max(reader.line_num, end + 1)) from None
    if columns is None:
        raise ImportRejected("empty")
    if not rows:
        raise ImportRejected("no_rows")
    return rows


def sample_rows(
    *, persian: bool = False, category: Category | None = None
) -> tuple[list[str], list[list[object]]]:
    """The header and rows of a small example file (the blueprint writes it as CSV).

    Rows are drafts without photos, so the sample imports as it is in the seller area.
    """
    header = [PERSIAN_HEADERS[f] for f in FIELDS] if persian else list(FIELDS)
    cat = category.slug if category else ""
    draft = "پیش‌نویس" if persian else "draft"
    single: list[object] = [""] * len(VARIANT_FIELDS)
    rows: list[list[object]] = [
        ["رومیزی سوزن‌دوزی بلوچ", "دوخت دست، ۴۰×۴۰ سانتی‌متر", cat, "۱٬۲۵۰٬۰۰۰", "۳", draft, ""]
        + single,
        ["خرمای مضافتی بم - ۱ کیلو", "برداشت امسال", cat, "180000", "20", draft, ""] + single,
    ]
    return header, rows

"""Bulk import of listings from a CSV file: parse, validate, then save every row or none.

Three steps, each usable on its own (the seller area previews between 2 and 3, the command line
goes straight through):

1. :func:`parse_csv` turns the uploaded bytes into :class:`RowInput` values. Problems with the
   file as a whole (not UTF-8, binary data, broken quoting, unknown or missing columns, too many
   rows, a huge field) raise :class:`ImportRejected`; nothing else escapes, whatever the bytes.
2. :func:`validate` checks every row against the listing rules and the catalogue and returns an
   :class:`ImportPlan`: each row with its physical line number in the file (the header is line 1)
   and its errors. It reads the database and changes nothing.
3. :func:`save` creates every listing of a plan without errors in one transaction, or raises
   and creates none.

**File format.** UTF-8 (a byte-order mark is accepted and dropped), comma separated (a header
line separated by ``;`` or tabs switches the delimiter, as some spreadsheet locales export).
Header names are English or Persian and are matched after folding case, spaces, ZWNJ and
punctuation, and the Arabic letters ي/ك to Persian ی/ک (see :data:`HEADER_ALIASES`). ``title``
and ``price`` are required columns; an unknown column is refused rather than silently dropped,
so a misspelt ``stock`` header cannot import every row with the default stock. Prices are in
**toman**, as in the listing form, and stored in rials (× 10). Numbers may use Persian digits and
group separators.

**Photos.** Rows name photo files in the ``images`` column, separated by ``;``, ``|`` or ``،``.
The caller passes an ``image_lookup`` (file name → bytes, or ``None`` when missing): the command
line passes :func:`directory_images` over its ``--images DIR``. The seller area passes ``None``:
a browser cannot send a folder of photos together with the file without the preview having to
keep those photos between two requests, so the web import accepts no photo names, and since the
publish rules need a photo, the web import creates drafts; sellers add photos to each listing in
the listing editor and publish from there. Photos go through the same pipeline as uploads
(:func:`app.media.images.process_image`) before the database transaction starts.

**Messages.** Errors carry a stable ``code`` and parameters; :func:`describe` turns them into
text through Flask-Babel, so the seller area and the command line show the same sentences.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.catalog.models import Category, Product, ProductImage, ProductStatus, Seller
from app.catalog.services import MAX_IMAGES, MAX_PRICE_AMOUNT, MAX_STOCK
from app.core.errors import DomainError, NotAllowed
from app.core.extensions import db
from app.core.formatting import LocalNumber
from app.core.inputs import parse_local_int
from app.core.timeutil import utcnow
from app.media.images import ImageRejected, StoredImage, process_image, read_limited

if TYPE_CHECKING:
    from app.media.storage import Storage

__all__ = [
    "FIELDS",
    "HEADER_ALIASES",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "ImageLookup",
    "ImportInvalid",
    "ImportPlan",
    "ImportRejected",
    "PlannedRow",
    "RowError",
    "RowInput",
    "describe",
    "directory_images",
    "is_plain_file_name",
    "parse_csv",
    "sample_rows",
    "save",
    "validate",
]

MAX_FILE_BYTES: Final = 4 * 1024 * 1024
MAX_ROWS: Final = 2_000
#: Longest value of any cell; a longer one means a broken file (the description cap is lower).
MAX_FIELD_CHARS: Final = 20_000
MAX_TITLE_CHARS: Final = 200
MAX_DESCRIPTION_CHARS: Final = 10_000
MAX_PRICE_TOMAN: Final = MAX_PRICE_AMOUNT // 10
DEFAULT_STOCK: Final = 1  # as the new-listing form
MAX_IMAGE_NAME_CHARS: Final = 255

#: The columns, in the order of the sample file.
FIELDS: Final = ("title", "description", "category", "price", "stock", "status", "images")
REQUIRED_FIELDS: Final = ("title", "price")

#: Accepted header names per column, before folding (:func:`_fold`).
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
}

_STATUS_WORDS: Final = {
    ProductStatus.DRAFT: ("draft", "پیش‌نویس", "پیش نویس", "پیشنویس"),
    ProductStatus.PUBLISHED: ("published", "publish", "منتشر", "منتشرشده", "منتشر شده"),
}
_IMAGE_SEPARATORS: Final = re.compile(r"[;|،]")
_TOMAN_SUFFIXES: Final = ("تومان", "toman")
_ARABIC_LETTERS: Final = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
# C0 controls other than tab, newline and carriage return, and DEL: never in a text CSV.
_BINARY: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UNSAFE_NAME: Final = re.compile(r"[/\\:\x00-\x1f\x7f]")

# Texts for every code this module produces. Parameters are filled in by describe().
_MESSAGES: Final = {
    # the file as a whole
    "too_large": _l("The file is larger than %(limit)s MB. Split it into smaller files."),
    "empty": _l("The file is empty."),
    "not_utf8": _l(
        "The file is not UTF-8. In Excel choose “CSV UTF-8”; in LibreOffice choose the "
        "“Unicode (UTF-8)” character set."
    ),
    "binary": _l("This is not a CSV text file."),
    "malformed": _l("The CSV file is malformed near line %(line)s (check the quotation marks)."),
    "field_too_long": _l("Line %(line)s has a value longer than %(limit)s characters."),
    "too_many_rows": _l("The file has more than %(limit)s listings. Split it into smaller files."),
    "missing_columns": _l("Required columns are missing: %(columns)s."),
    "unknown_column": _l("Unknown column “%(column)s”. The columns are: %(known)s."),
    "duplicate_column": _l("The column “%(column)s” appears twice."),
    "no_rows": _l("The file has a header line but no listings."),
    "images_without_dir": _l(
        "Some rows name photos: give the folder that holds them with --images DIR."
    ),
    "conflict": _l("The catalogue changed while saving. Nothing was saved; please try again."),
    # one row
    "extra_values": _l("This line has more values than the header has columns."),
    "title_required": _l("Enter a title."),
    "title_too_long": _l("The title can be at most %(limit)s characters."),
    "description_too_long": _l("The description can be at most %(limit)s characters."),
    "price_required": _l("Enter a price in toman."),
    "price_invalid": _l("The price must be a whole number of toman, like 120000 or ۱۲۰٬۰۰۰."),
    "price_out_of_range": _l("The price must be between 0 and %(limit)s toman."),
    "stock_invalid": _l("The stock must be a whole number."),
    "stock_out_of_range": _l("The stock must be between 0 and %(limit)s."),
    "category_unknown": _l(
        "There is no category “%(value)s”. Use a category's address or its exact name."
    ),
    "category_ambiguous": _l(
        "Several categories are called “%(value)s”. Use the category's address instead."
    ),
    "status_invalid": _l("The status must be draft or published (پیش‌نویس or منتشر)."),
    "too_many_images": _l("A listing can have at most %(limit)s photos."),
    "images_cli_only": _l(
        "Photos cannot be imported here. Leave the images column empty and add photos to "
        "each listing after the import."
    ),
    "image_name_invalid": _l("“%(name)s” is not a plain file name."),
    "image_not_found": _l("The photo “%(name)s” was not found."),
    "image_rejected": _l("The photo “%(name)s” was refused: %(reason)s"),
    "needs_photo": _l("A published listing needs at least one photo in the images column."),
    "needs_photo_web": _l(
        "A published listing needs a photo, and photos cannot be imported here. Import it "
        "as a draft, then add photos and publish it."
    ),
    "needs_price": _l("A published listing needs a price above 0."),
    "needs_category": _l("A published listing needs a category."),
    # warnings (the row is still imported)
    "duplicate_title": _l("You already have a listing with this title."),
    "duplicate_in_file": _l("Line %(line)s has the same title."),
}

_IMAGE_REASONS: Final = {
    "too_large_bytes": _l("the file is too large."),
    "too_many_pixels": _l("the image has too many pixels."),
    "unsupported_format": _l("only JPEG, PNG and WebP images are accepted."),
    "corrupt": _l("the image is damaged or incomplete."),
    "empty": _l("the file is empty."),
}


def describe(code: str, params: dict[str, object] | None = None) -> str:
    """The translated sentence for an import error ``code`` (the code itself if unknown)."""
    text = _MESSAGES.get(code)
    if text is None:
        return code
    # Numbers (a line, a limit) are written in the reader's digits when the text is shown.
    values = {
        k: LocalNumber(v) if isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in (params or {}).items()
    }
    if "reason" in values:
        values["reason"] = str(_IMAGE_REASONS.get(str(values["reason"]), values["reason"]))
    return str(text) % values if values else str(text)


class ImportRejected(DomainError):
    """The file as a whole cannot be imported; ``code`` and ``params`` say why."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code} {params}" if params else code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        return describe(self.code, self.params)


class ImportInvalid(DomainError):
    """At least one row has errors, so nothing was saved; ``plan`` holds them all."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__(f"{len(plan.error_rows)} rows have errors")
        self.plan = plan


@dataclass(frozen=True)
class RowError:
    """One problem of one row: the column it concerns, a stable code and its parameters."""

    field: str
    code: str
    params: dict[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return describe(self.code, self.params)


@dataclass
class RowInput:
    """One data line of the file as text, trimmed; ``line`` is its first physical line."""

    line: int
    title: str = ""
    description: str = ""
    category: str = ""
    price: str = ""
    stock: str = ""
    status: str = ""
    images: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class PlannedRow:
    """A row after validation: the values a listing would get, and what is wrong with it."""

    source: RowInput
    title: str = ""
    description: str = ""
    category: Category | None = None
    category_id: int | None = None
    price_amount: int | None = None
    stock: int = DEFAULT_STOCK
    status: ProductStatus = ProductStatus.DRAFT
    images: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.source.line

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_fields(self) -> set[str]:
        return {e.field for e in self.errors}


ImageLookup = Callable[[str], bytes | None]


@dataclass
class ImportPlan:
    """What an import would create for one seller; savable only when no row has errors."""

    seller_id: int
    rows: list[PlannedRow]
    image_lookup: ImageLookup | None = None

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def error_rows(self) -> list[PlannedRow]:
        return [row for row in self.rows if not row.ok]


# ---- parsing --------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Compare-form of a header or keyword: case, spaces, ZWNJ, punctuation and ي/ك folded."""
    text = unicodedata.normalize("NFKC", text).translate(_ARABIC_LETTERS).casefold()
    return "".join(ch for ch in text if ch.isalnum())


_HEADER_INDEX: Final = {
    _fold(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}
_STATUS_INDEX: Final = {
    _fold(word): status for status, words in _STATUS_WORDS.items() for word in words
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
        field_name = _HEADER_INDEX.get(_fold(name))
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


# ---- validation -----------------------------------------------------------------------------


class _Categories:
    """Category lookup by address (slug) or by exact Persian or English name."""

    def __init__(self) -> None:
        self.by_slug: dict[str, Category] = {}
        self.by_name: dict[str, list[Category]] = {}
        for cat in db.session.scalars(sa.select(Category)):
            self.by_slug[cat.slug.casefold()] = cat
            for name in {self._key(cat.name_fa), self._key(cat.name_en)}:
                if name:
                    self.by_name.setdefault(name, []).append(cat)

    @staticmethod
    def _key(text: str) -> str:
        text = unicodedata.normalize("NFKC", text).translate(_ARABIC_LETTERS)
        return " ".join(text.replace("\u200c", " ").split()).casefold()

    def find(self, value: str) -> tuple[Category | None, str | None]:
        """(category, None) or (None, error code)."""
        cat = self.by_slug.get(value.strip().casefold())
        if cat is not None:
            return cat, None
        found = self.by_name.get(self._key(value), [])
        if len(found) == 1:
            return found[0], None
        return None, ("category_ambiguous" if found else "category_unknown")


def is_plain_file_name(name: str) -> bool:
    """True for a bare file name: no directory part, no traversal, no hidden or odd name."""
    return (
        0 < len(name) <= MAX_IMAGE_NAME_CHARS
        and not name.startswith(".")
        and _UNSAFE_NAME.search(name) is None
    )


def directory_images(directory: str | Path, max_bytes: int) -> ImageLookup:
    """An image lookup over the files directly inside ``directory``.

    A name that is not a plain file name, or that resolves (through a symlink) to anything but
    a regular file directly inside the directory, counts as missing. Files larger than
    ``max_bytes`` raise :class:`ImageRejected` ``too_large_bytes`` without being read whole.
    """
    root = Path(directory).resolve()

    def lookup(name: str) -> bytes | None:
        if not is_plain_file_name(name):
            return None
        try:
            path = (root / name).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if path.parent != root or not path.is_file():
            return None
        try:
            with path.open("rb") as fh:
                return read_limited(fh, max_bytes)
        except OSError:  # unreadable (permissions, vanished): reported as missing
            return None

    return lookup


def _number(
    value: str, field_name: str, limit: int, errors: list[RowError], *, strip_toman: bool = False
) -> int | None:
    text = value.strip()
    if strip_toman:
        for suffix in _TOMAN_SUFFIXES:
            if text.casefold().endswith(suffix):
                text = text[: -len(suffix)].strip()
    try:
        number = parse_local_int(text)
    except ValueError:
        errors.append(RowError(field_name, f"{field_name}_invalid"))
        return None
    if not 0 <= number <= limit:
        errors.append(RowError(field_name, f"{field_name}_out_of_range", {"limit": limit}))
        return None
    return number


def _check_images(
    row: PlannedRow, names: list[str], lookup: ImageLookup | None, seen: dict[str, RowError | None]
) -> None:
    if not names:
        return
    if lookup is None:
        row.errors.append(RowError("images", "images_cli_only"))
        return
    if len(names) > MAX_IMAGES:
        row.errors.append(RowError("images", "too_many_images", {"limit": MAX_IMAGES}))
        return
    for name in names:
        if name not in seen:
            seen[name] = _find_image(name, lookup)
        problem = seen[name]
        if problem is not None:
            row.errors.append(problem)
    if not any(e.field == "images" for e in row.errors):
        row.images = names


def _find_image(name: str, lookup: ImageLookup) -> RowError | None:
    shown = name[:80]
    if not is_plain_file_name(name):
        return RowError("images", "image_name_invalid", {"name": shown})
    try:
        data = lookup(name)
    except ImageRejected as exc:
        return RowError("images", "image_rejected", {"name": shown, "reason": exc.code})
    if data is None:
        return RowError("images", "image_not_found", {"name": shown})
    if not data:
        return RowError("images", "image_rejected", {"name": shown, "reason": "empty"})
    return None


def _check_row(
    source: RowInput,
    categories: _Categories,
    lookup: ImageLookup | None,
    seen_images: dict[str, RowError | None],
) -> PlannedRow:
    row = PlannedRow(source=source, errors=list(source.errors))
    errors = row.errors

    row.title = " ".join(source.title.split())
    if not row.title:
        errors.append(RowError("title", "title_required"))
    elif len(row.title) > MAX_TITLE_CHARS:
        errors.append(RowError("title", "title_too_long", {"limit": MAX_TITLE_CHARS}))

    row.description = source.description.strip()
    if len(row.description) > MAX_DESCRIPTION_CHARS:
        errors.append(
            RowError("description", "description_too_long", {"limit": MAX_DESCRIPTION_CHARS})
        )

    if not source.price.strip():
        errors.append(RowError("price", "price_required"))
    else:
        toman = _number(source.price, "price", MAX_PRICE_TOMAN, errors, strip_toman=True)
        row.price_amount = None if toman is None else toman * 10

    if source.stock.strip():
        stock = _number(source.stock, "stock", MAX_STOCK, errors)
        row.stock = DEFAULT_STOCK if stock is None else stock

    if source.category.strip():
        row.category, problem = categories.find(source.category)
        row.category_id = row.category.id if row.category else None
        if problem:
            errors.append(RowError("category", problem, {"value": source.category.strip()[:80]}))

    status = _STATUS_INDEX.get(_fold(source.status)) if source.status.strip() else None
    if source.status.strip() and status is None:
        errors.append(RowError("status", "status_invalid"))
    row.status = status or ProductStatus.DRAFT

    _check_images(row, source.images, lookup, seen_images)

    if row.status == ProductStatus.PUBLISHED:
        # The publish rules of the listing editor; a field already in error is not repeated.
        failed = row.error_fields()
        if "images" not in failed and not row.images:
            code = "needs_photo_web" if lookup is None else "needs_photo"
            errors.append(RowError("status", code))
        if "price" not in failed and not row.price_amount:
            errors.append(RowError("status", "needs_price"))
        if "category" not in failed and row.category is None:
            errors.append(RowError("status", "needs_category"))
    return row


def validate(rows: list[RowInput], seller: Seller, image_lookup: ImageLookup | None) -> ImportPlan:
    """Check every row; the plan lists each row's values, errors and warnings.

    ``image_lookup`` maps a file name from the images column to its bytes (``None`` when there
    is no such file; it may raise :class:`ImageRejected`, e.g. for an oversized file). Pass
    ``None`` where photos cannot be imported (the seller area): rows naming photos are then
    errors. Warnings (a title the seller already uses, or that repeats in the file) do not stop
    the import. Reads the database only.
    """
    categories = _Categories()
    seen_images: dict[str, RowError | None] = {}
    planned = [_check_row(row, categories, image_lookup, seen_images) for row in rows]

    existing = {
        " ".join(title.split()).casefold()
        for title in db.session.scalars(
            sa.select(Product.title).where(Product.seller_id == seller.id)
        )
    }
    first_line: dict[str, int] = {}
    for row in planned:
        key = row.title.casefold()
        if not key:
            continue
        if key in existing:
            row.warnings.append(RowError("title", "duplicate_title"))
        if key in first_line:
            row.warnings.append(RowError("title", "duplicate_in_file", {"line": first_line[key]}))
        else:
            first_line[key] = row.line
    return ImportPlan(seller_id=seller.id, rows=planned, image_lookup=image_lookup)


# ---- saving ---------------------------------------------------------------------------------


def _store_images(
    plan: ImportPlan, store: Storage, created: list[str], limits: tuple[int, int]
) -> dict[str, StoredImage]:
    """Run every named photo through the image pipeline once; refusals become row errors."""
    outcome: dict[str, StoredImage | RowError] = {}
    for row in plan.rows:
        for name in row.images:
            if name not in outcome:
                outcome[name] = _store_image(name, plan.image_lookup, store, created, limits)
            result = outcome[name]
            if isinstance(result, RowError):
                row.errors.append(result)
    return {name: result for name, result in outcome.items() if isinstance(result, StoredImage)}


def _store_image(
    name: str,
    lookup: ImageLookup | None,
    store: Storage,
    created: list[str],
    limits: tuple[int, int],
) -> StoredImage | RowError:
    """One photo through the pipeline, or the row error saying why not.

    The picture is rendered into memory first and then copied into ``store`` key by key, so
    ``created`` lists exactly the files this import wrote (and may remove again).
    """
    from app.media.images import CONTENT_TYPE
    from app.media.storage import MemoryStorage

    max_bytes, max_pixels = limits
    shown = name[:80]
    scratch = MemoryStorage()
    try:
        data = lookup(name) if lookup is not None else None
        if data is None:
            return RowError("images", "image_not_found", {"name": shown})
        image = process_image(data, scratch, max_bytes=max_bytes, max_pixels=max_pixels)
    except ImageRejected as exc:
        return RowError("images", "image_rejected", {"name": shown, "reason": exc.code})
    for key in image.keys:
        if not store.exists(key):
            store.put(key, scratch.get(key), CONTENT_TYPE)
            created.append(key)
    return image


def _discard(keys: Iterable[str], store: Storage) -> None:
    """Remove files this import wrote, unless something has come to refer to them meanwhile."""
    keys = list(keys)
    if not keys:
        return
    used: set[str] = set()
    with contextlib.suppress(sa.exc.SQLAlchemyError):
        for storage_key, variants in db.session.execute(
            sa.select(ProductImage.storage_key, ProductImage.variants).where(
                ProductImage.storage_key.in_(keys)
            )
        ):
            used.add(storage_key)
            used.update(v[2] for v in variants or [])
        used.update(db.session.scalars(sa.select(Seller.logo_key).where(Seller.logo_key.in_(keys))))
    for key in keys:
        if key not in used:
            with contextlib.suppress(OSError, KeyError, ValueError):
                store.delete(key)


def save(plan: ImportPlan, seller: Seller, *, store: Storage | None = None) -> list[Product]:
    """Create every listing of ``plan`` for ``seller`` in one transaction; all or nothing.

    Raises :class:`ImportInvalid` (nothing saved) when a row has errors, including photos the
    image pipeline refuses now; :class:`ImportRejected` ``no_rows`` for an empty plan or
    ``conflict`` when the database refuses the rows (e.g. a category deleted meanwhile);
    :class:`NotAllowed` for a plan made for another seller. Photos are stored (``store``,
    default the app's media storage) before the transaction; if anything fails afterwards the
    files this call wrote are removed again. Returns the new products in file order.
    """
    from flask import current_app

    from app.core.db import begin_write, end_read

    if plan.seller_id != seller.id:
        raise NotAllowed("the plan was made for another seller")
    if not plan.rows:
        raise ImportRejected("no_rows")
    if not plan.ok:
        raise ImportInvalid(plan)
    if store is None:
        from app.media.store import storage

        store = storage()
    limits = (current_app.config["MAX_IMAGE_BYTES"], current_app.config["MAX_IMAGE_PIXELS"])
    seller_id = seller.id
    created: list[str] = []
    # Only reads so far (validation): end them before the photos are decoded, so no database
    # lock is held meanwhile, and the write transaction below starts afresh.
    end_read()
    try:
        images = _store_images(plan, store, created, limits)
        if not plan.ok:
            raise ImportInvalid(plan)
        session = db.session()
        begin_write()
        products = [_product(row, seller_id, images) for row in plan.rows]
        session.add_all(products)
        try:
            session.commit()
        except sa.exc.IntegrityError as exc:
            session.rollback()
            raise ImportRejected("conflict") from exc
        except BaseException:
            session.rollback()
            raise
    except BaseException:
        _discard(created, store)
        raise
    return products


def _product(row: PlannedRow, seller_id: int, images: dict[str, StoredImage]) -> Product:
    published = row.status == ProductStatus.PUBLISHED
    product = Product(
        seller_id=seller_id,
        category_id=row.category_id,
        title=row.title,
        description=row.description,
        price_amount=row.price_amount or 0,
        stock=row.stock,
        status=row.status,
        published_at=utcnow() if published else None,
    )
    for position, name in enumerate(row.images):
        image = images[name]
        product.images.append(
            ProductImage(
                position=position,
                storage_key=image.largest.key,
                variants=[[v.width, v.height, v.key] for v in image.variants],
                width=image.width,
                height=image.height,
                alt_text=row.title[:200],
            )
        )
    return product


# ---- sample file ----------------------------------------------------------------------------


def sample_rows(
    *, persian: bool = False, category: Category | None = None
) -> tuple[list[str], list[list[object]]]:
    """The header and rows of a small example file (the blueprint writes it as CSV).

    Rows are drafts without photos, so the sample imports as it is in the seller area.
    """
    header = [PERSIAN_HEADERS[f] for f in FIELDS] if persian else list(FIELDS)
    cat = category.slug if category else ""
    draft = "پیش‌نویس" if persian else "draft"
    rows: list[list[object]] = [
        ["رومیزی سوزن‌دوزی بلوچ", "دوخت دست، ۴۰×۴۰ سانتی‌متر", cat, "۱٬۲۵۰٬۰۰۰", "۳", draft, ""],
        ["خرمای مضافتی بم - ۱ کیلو", "برداشت امسال", cat, "180000", "20", draft, ""],
    ]
    return header, rows

"""Step 2 of the CSV import: every row checked against the listing rules and the catalogue,
and the photos it names looked up; the result is an :class:`ImportPlan`. Reads the database only.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from flask import current_app

from app.catalog import variants
from app.catalog.importer.parsing import ARABIC_LETTERS, fold
from app.catalog.importer.rows import (
    DEFAULT_STOCK,
    ImageLookup,
    ImportPlan,
    PlannedRow,
    RowError,
    RowInput,
)
from app.catalog.models import Category, Product, ProductStatus, Seller, SlugHistory
from app.catalog.rules import MAX_IMAGES, MAX_PRICE_AMOUNT, MAX_STOCK
from app.catalog.slugs import slugify
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.inputs import money_unit, parse_local_int, parse_money
from app.media.images import ImageRejected, read_limited

MAX_TITLE_CHARS: Final = 200
MAX_DESCRIPTION_CHARS: Final = 10_000
MAX_IMAGE_NAME_CHARS: Final = 255

_STATUS_WORDS: Final = {
    ProductStatus.DRAFT: ("draft", "پیش‌نویس", "پیش نویس", "پیشنویس"),
    ProductStatus.PUBLISHED: ("published", "publish", "منتشر", "منتشرشده", "منتشر شده"),
}
_TOMAN_SUFFIXES: Final = ("تومان", "toman")
_UNSAFE_NAME: Final = re.compile(r"[/\\:\x00-\x1f\x7f]")
_STATUS_INDEX: Final = {
    fold(word): status for status, words in _STATUS_WORDS.items() for word in words
}


class _Categories:
    """Category lookup by address (slug, in any spelling, or one it had before: a file exported
    earlier still names it) or by exact Persian or English name."""

    def __init__(self) -> None:
        self.by_slug: dict[str, Category] = {}
        self.by_name: dict[str, list[Category]] = {}
        categories = {cat.id: cat for cat in db.session.scalars(sa.select(Category))}
        for old, cat_id in db.session.execute(
            sa.select(SlugHistory.old_slug, SlugHistory.object_id).where(
                SlugHistory.kind == "category"
            )
        ):
            if cat_id in categories:
                self.by_slug[old.casefold()] = categories[cat_id]
        for cat in categories.values():
            self.by_slug[cat.slug.casefold()] = cat
            for name in {self._key(cat.name_fa), self._key(cat.name_en)}:
                if name:
                    self.by_name.setdefault(name, []).append(cat)

    @staticmethod
    def _key(text: str) -> str:
        text = unicodedata.normalize("NFKC", text).translate(ARABIC_LETTERS)
        return " ".join(text.replace("\u200c", " ").split()).casefold()

    def find(self, value: str) -> tuple[Category | None, str | None]:
        """(category, None) or (None, error code)."""
        cat = self.by_slug.get(value.strip().casefold()) or self.by_slug.get(slugify(value))
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


def _price(value: str, errors: list[RowError], field_name: str = "price") -> int | None:
    """A price typed in the market's unit (``120000``, ``۱۲۰٬۰۰۰ تومان``), in the stored unit."""
    text = value.strip()
    for suffix in _TOMAN_SUFFIXES:
        if text.casefold().endswith(suffix):
            text = text[: -len(suffix)].strip()
    currency = current_app.config["MARKET_CURRENCY"]
    try:
        amount = parse_money(text, currency)
    except ValueError:
        errors.append(RowError(field_name, f"{field_name}_invalid"))
        return None
    if not 0 <= amount <= MAX_PRICE_AMOUNT:
        limit = MAX_PRICE_AMOUNT // money_unit(currency)
        errors.append(RowError(field_name, "price_out_of_range", {"limit": limit}))
        return None
    return amount


def _number(value: str, field_name: str, limit: int, errors: list[RowError]) -> int | None:
    text = value.strip()
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
        row.price_amount = _price(source.price, errors)

    if source.stock.strip():
        stock = _number(source.stock, "stock", MAX_STOCK, errors)
        row.stock = DEFAULT_STOCK if stock is None else stock

    if source.category.strip():
        row.category, problem = categories.find(source.category)
        row.category_id = row.category.id if row.category else None
        if problem:
            errors.append(RowError("category", problem, {"value": source.category.strip()[:80]}))

    status = _STATUS_INDEX.get(fold(source.status)) if source.status.strip() else None
    if source.status.strip() and status is None:
        errors.append(RowError("status", "status_invalid"))
    row.status = status or ProductStatus.DRAFT

    _check_images(row, source.images, lookup, seen_images)
    _check_variant_columns(row, source)

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


def _check_variant_columns(row: PlannedRow, source: RowInput) -> None:
    """A variant's row: up to three options (a name and this row's value each, in order), its
    SKU and its sale price; a row without options is a listing of its own."""
    for k in (1, 2, 3):
        name = " ".join(getattr(source, f"option{k}_name").split())
        value = " ".join(getattr(source, f"option{k}_value").split())
        if not name and not value:
            continue
        if not name or not value:
            missing = f"option{k}_name" if not name else f"option{k}_value"
            row.errors.append(RowError(missing, "option_incomplete"))
            continue
        row.option_names.append(name)
        row.option_values.append(value)
    row.sku = source.sku.strip() or None
    if source.sale_price.strip():
        if not row.option_names:
            row.errors.append(RowError("sale_price", "sale_price_variants_only"))
        else:
            row.sale_price_amount = _price(source.sale_price, row.errors, "sale_price")
    if row.sku is not None and not row.option_names:
        row.errors.append(RowError("sku", "sku_variants_only"))


# Where the variants service's error fields land on a variant's row, and the import's code for
# some of its codes.
_VARIANT_FIELDS = {
    "price_amount": "price",
    "sale_price_amount": "sale_price",
    "stock": "stock",
    "sku": "sku",
    "values": "option1_value",
    "image_id": "images",
}
_OPTION_CODES = {
    "required": "option_incomplete",
    "too_long": "option_name_too_long",
    "option_values_invalid": "option_value_invalid",
}


def _group_variants(planned: list[PlannedRow], seller: Seller) -> None:
    """Rows with options and the same title are one listing: its first row gets the options
    and variants (checked by :func:`app.catalog.variants.check`), the others point to it."""
    groups: dict[str, list[PlannedRow]] = {}
    for row in planned:
        if row.option_names and row.title:
            groups.setdefault(row.title.casefold(), []).append(row)
    sku_lines: dict[str, int] = {}
    for row in planned:
        if row.sku is not None:
            if row.sku in sku_lines:
                row.errors.append(RowError("sku", "duplicate_sku", {"line": sku_lines[row.sku]}))
            else:
                sku_lines[row.sku] = row.line
    for rows in groups.values():
        first = rows[0]
        for row in rows[1:]:
            row.variant_of = first.line
            if row.option_names != first.option_names:
                row.errors.append(
                    RowError("option1_name", "option_names_differ", {"line": first.line})
                )
        if any(not row.ok for row in rows):
            continue
        options = [variants.OptionData(name, []) for name in first.option_names]
        for row in rows:
            for option, value in zip(options, row.option_values, strict=False):
                if value not in option.values:
                    option.values.append(value)
        data = variants.VariantsData(
            options,
            [
                variants.VariantData(
                    list(row.option_values),
                    row.price_amount,
                    row.stock,
                    row.sale_price_amount,
                    row.sku,
                )
                for row in rows
            ],
        )
        try:
            first.variants = variants.check(data, seller_id=seller.id)
        except ValidationFailed as exc:
            _variant_errors(rows, exc.errors)


def _variant_errors(rows: list[PlannedRow], errors: dict[str, list[str]]) -> None:
    """The variants service's errors on the rows of one listing."""
    for key, codes in errors.items():
        parts = key.split("-", 2)
        for code in codes:
            if parts[0] == "variants" and len(parts) == 3 and parts[1].isdigit():
                row = rows[min(int(parts[1]), len(rows) - 1)]
                field_name = _VARIANT_FIELDS.get(parts[2], "option1_value")
                params: dict[str, object] = {}
                if code in ("duplicate_variant", "duplicate_sku"):
                    params = {"line": rows[0].line}
                elif code in ("out_of_range", "sale_not_lower", "sku_invalid", "sku_taken"):
                    pass
                else:
                    code = "variant_invalid"
                row.errors.append(RowError(field_name, code, params))
            elif parts[0] == "options" and len(parts) == 3:
                k = int(parts[1]) + 1 if parts[1].isdigit() else 1
                field_name = f"option{k}_name" if parts[2] == "name" else f"option{k}_value"
                rows[0].errors.append(RowError(field_name, _OPTION_CODES.get(code, code)))
            elif code == "too_many_variants":
                rows[0].errors.append(
                    RowError("option1_value", code, {"limit": variants.MAX_VARIANTS})
                )
            else:
                rows[0].errors.append(RowError("option1_name", _OPTION_CODES.get(code, code)))


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
    _group_variants(planned, seller)

    existing = {
        " ".join(title.split()).casefold()
        for title in db.session.scalars(
            sa.select(Product.title).where(Product.seller_id == seller.id)
        )
    }
    first_line: dict[str, int] = {}
    for row in planned:
        key = row.title.casefold()
        if not key or row.variant_of is not None:
            continue
        if key in existing:
            row.warnings.append(RowError("title", "duplicate_title"))
        if key in first_line:
            row.warnings.append(RowError("title", "duplicate_in_file", {"line": first_line[key]}))
        else:
            first_line[key] = row.line
    return ImportPlan(seller_id=seller.id, rows=planned, image_lookup=image_lookup)

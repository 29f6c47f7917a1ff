"""The values the CSV import passes from step to step (rows as read, rows as planned, the plan),
its errors, and the sentence for each error code (:func:`describe`, through Flask-Babel, so the
seller area and the command line show the same sentences)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from flask_babel import lazy_gettext as _l

from app.catalog.models import Category, ProductStatus
from app.catalog.variants import VariantsData
from app.core.errors import DomainError
from app.core.formatting import LocalNumber

DEFAULT_STOCK: Final = 1  # as the new-listing form

# Texts for every code the import produces. Parameters are filled in by describe().
MESSAGES: Final = {
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
    # a listing's options and variants
    "option_incomplete": _l("Give the option both its name and this row's value."),
    "option_names_differ": _l(
        "The options' names differ from the first row of this listing (line %(line)s)."
    ),
    "sale_price_variants_only": _l(
        "A sale price can be given only on a variant's row; set a single listing's sale on its "
        "page."
    ),
    "sku_variants_only": _l(
        "A SKU can be given only on a variant's row (a row with an option and its value)."
    ),
    "sale_price_invalid": _l("The sale price must be a whole number of toman."),
    "too_many_options": _l("A listing can have at most three options."),
    "duplicate_option": _l("Two options have the same name."),
    "option_value_invalid": _l("An option can have at most 20 values, each at most 40 characters."),
    "option_name_too_long": _l("An option's name can be at most 40 characters."),
    "too_many_variants": _l("A listing can have at most %(limit)s variants."),
    "duplicate_variant": _l("Line %(line)s is the same variant."),
    "duplicate_sku": _l("Line %(line)s has the same SKU."),
    "sku_invalid": _l("Use Latin letters, digits, dots, dashes or underscores (at most 64)."),
    "sku_taken": _l("Another of your listings already uses this SKU."),
    "out_of_range": _l("The number is out of range."),
    "sale_not_lower": _l("The sale price must be lower than the price."),
    "variant_invalid": _l("This variant's values are not valid."),
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
    text = MESSAGES.get(code)
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
    params: dict[str, object] = dataclasses.field(default_factory=dict)

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
    images: list[str] = dataclasses.field(default_factory=list)
    option1_name: str = ""
    option1_value: str = ""
    option2_name: str = ""
    option2_value: str = ""
    option3_name: str = ""
    option3_value: str = ""
    sku: str = ""
    sale_price: str = ""
    errors: list[RowError] = dataclasses.field(default_factory=list)


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
    images: list[str] = dataclasses.field(default_factory=list)
    errors: list[RowError] = dataclasses.field(default_factory=list)
    warnings: list[RowError] = dataclasses.field(default_factory=list)
    # A variant's row: its options' names and its values (in order), SKU and sale price.
    option_names: list[str] = dataclasses.field(default_factory=list)
    option_values: list[str] = dataclasses.field(default_factory=list)
    sku: str | None = None
    sale_price_amount: int | None = None
    # The first row of a listing with options holds them all; its other rows name that line.
    variants: VariantsData | None = None
    variant_of: int | None = None

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

    @property
    def listing_count(self) -> int:
        """How many listings the plan makes (a listing with options has a row per variant)."""
        return sum(1 for row in self.rows if row.variant_of is None)

"""The listing form's options and variants section: read from the submitted form (no script
needed), the rows made from the options on the seller's request, shown back as typed, and the
variants service's error codes put beside the option or row they concern.

The section's fields (nothing in it is a WTForms field: the number of rows follows the options):

- ``variants-editor``: present when the page had the section (a form without it leaves the
  listing's options as they are);
- ``options-<i>-name``, ``options-<i>-values`` (i = 0..2): a name and its values, separated by
  commas (``,`` or the Persian ``،``);
- ``variants-<j>-value1``..``value3`` (hidden), ``-price``, ``-sale_price`` (toman),
  ``-stock``, ``-sku`` and ``-image_id`` (one of the listing's photos) per row;
- ``variants-make``: the button that makes a row for every combination of the options, keeping
  what was typed on the rows that remain;
- ``variants-single``: the confirmation that a listing with variants becomes one item again
  when every option is removed.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from flask import current_app
from werkzeug.datastructures import MultiDict

from app.catalog import variants
from app.catalog.models import Product
from app.core.errors import ValidationFailed
from app.core.formatting import format_number, persian_digits
from app.core.inputs import TOMAN_RIALS, lenient_int, money_unit, optional_int, optional_money
from app.web.messages import error_text

FIELD_CHARS = 2_000  # longest text read from one field of the section
_VALUE_SEPARATORS = re.compile(r"[,\u060c]")
# The service's row fields and the form's names for them.
ROW_FIELDS = {
    "price_amount": "price",
    "sale_price_amount": "sale_price",
    "stock": "stock",
    "sku": "sku",
    "image_id": "image_id",
}


def split_values(text: str) -> list[str]:
    """An option's values typed in one field: ``"S، M, L"`` → ``["S", "M", "L"]``."""
    return [v for v in (" ".join(part.split()) for part in _VALUE_SEPARATORS.split(text)) if v]


@dataclass
class OptionRow:
    name: str = ""
    values: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)  # "name" / "values" → texts


@dataclass
class VariantRow:
    values: list[str]
    price: str = ""
    sale_price: str = ""
    stock: str = ""
    sku: str = ""
    image_id: str = ""
    # The stock the form showed for a saved variant (ASCII digits; "" for a new row).
    seen_stock: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)  # a ROW_FIELDS name → texts

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(self.values)


@dataclass
class Editor:
    """The section as the page shows it: three option slots, the rows, and the errors."""

    options: list[OptionRow] = field(default_factory=lambda: [OptionRow() for _ in range(3)])
    rows: list[VariantRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    submitted: bool = False  # the page had the section
    make_rows: bool = False  # the "make the rows" button was pressed
    confirm_single: bool = False
    had_variants: bool = False

    @property
    def named_options(self) -> list[OptionRow]:
        return [o for o in self.options if o.name.strip() or o.values.strip()]

    @property
    def has_errors(self) -> bool:
        return bool(
            self.errors or any(o.errors for o in self.options) or any(r.errors for r in self.rows)
        )

    @property
    def asks_single(self) -> bool:
        """The listing has variants and the seller removed every option."""
        return self.had_variants and not self.named_options

    # ---- reading -------------------------------------------------------------------------

    def generate(self) -> None:
        """A row for every combination of the options' values, in their order; a row that was
        there keeps what was typed on it."""
        self.make_rows = True
        lists = [split_values(o.values) for o in self.named_options]
        if not lists or not all(lists):
            self.rows = []
            if self.named_options:
                self.errors.append(error_text("option_values_invalid"))
            return
        total = 1
        for values in lists:
            total *= len(values)
        if total > variants.MAX_VARIANTS:
            self.errors.append(error_text("too_many_variants"))
            return
        typed = {row.key: row for row in self.rows}
        self.rows = [
            typed.get(tuple(combo)) or VariantRow(list(combo))
            for combo in itertools.product(*lists)
        ]
        for row in self.rows:
            row.errors = {}

    def data(self) -> variants.VariantsData | None:
        """The options and variants to save (``None``: leave the listing's as they are), or
        ValidationFailed with the fields that are not numbers (keys as the service's)."""
        if not self.submitted:
            return None
        errors: dict[str, list[str]] = {}
        if self.asks_single and not self.confirm_single:
            errors["variants-single"] = ["single_item_confirm"]
        options = [variants.OptionData(o.name, split_values(o.values)) for o in self.named_options]
        if not options:
            if errors:
                raise ValidationFailed(errors)
            return variants.VariantsData()
        currency = str(current_app.config["MARKET_CURRENCY"])
        rows: list[variants.VariantData] = []
        for j, row in enumerate(self.rows):
            price = _read(errors, f"variants-{j}-price_amount", row.price, currency, True)
            sale = _read(errors, f"variants-{j}-sale_price_amount", row.sale_price, currency)
            stock = _read(errors, f"variants-{j}-stock", row.stock, None, True)
            image_id = lenient_int(row.image_id[:20], None) if row.image_id.strip() else None
            if row.image_id.strip() and (image_id is None or image_id <= 0):
                errors.setdefault(f"variants-{j}-image_id", []).append("invalid")
                image_id = None
            rows.append(
                variants.VariantData(
                    list(row.values),
                    price,
                    stock if stock is not None else 0,
                    sale,
                    row.sku.strip() or None,
                    image_id,
                    lenient_int(row.seen_stock[:12], None) if row.seen_stock.strip() else None,
                )
            )
        if errors:
            raise ValidationFailed(errors)
        return variants.VariantsData(options, rows)

    # ---- errors --------------------------------------------------------------------------

    def take_errors(self, exc: ValidationFailed) -> ValidationFailed:
        """Put the errors of the section's fields on it; returns the others (the form's)."""
        rest: dict[str, list[str]] = {}
        for key, codes in exc.errors.items():
            texts = [error_text(code) for code in codes]
            parts = key.split("-", 2)
            if key in ("options", "variants", "variants-single"):
                self.errors.extend(texts)
            elif parts[0] == "options" and len(parts) == 3:
                self._option(parts[1]).errors.setdefault(parts[2], []).extend(texts)
            elif parts[0] == "variants" and len(parts) == 3:
                row = self._row(parts[1])
                if row is None:
                    self.errors.extend(texts)
                else:
                    name = ROW_FIELDS.get(parts[2], "values")
                    row.errors.setdefault(name, []).extend(texts)
            else:
                rest[key] = codes
        return ValidationFailed(rest)

    def _option(self, index: str) -> OptionRow:
        named = self.named_options
        i = lenient_int(index, 0) or 0
        return named[i] if 0 <= i < len(named) else self.options[0]

    def _row(self, index: str) -> VariantRow | None:
        j = lenient_int(index, -1)
        return self.rows[j] if j is not None and 0 <= j < len(self.rows) else None


def _read(
    errors: dict[str, list[str]],
    key: str,
    text: str,
    currency: str | None,
    required: bool = False,
) -> int | None:
    """A number typed on a row (money in toman when ``currency`` is given), any digits."""
    if not text.strip():
        if required:
            errors.setdefault(key, []).append("required")
        return None
    try:
        if currency is None:
            return optional_int(text)
        return optional_money(text, currency)
    except ValueError:
        errors.setdefault(key, []).append("number_invalid")
        return None


def _field(form: MultiDict[str, str], name: str) -> str:
    return str(form.get(name, ""))[:FIELD_CHARS]


def from_form(form: MultiDict[str, str], *, had_variants: bool = False) -> Editor:
    """The section as the seller sent it (at most :data:`variants.MAX_VARIANTS` rows read)."""
    editor = Editor(
        submitted="variants-editor" in form,
        make_rows="variants-make" in form,
        confirm_single=bool(form.get("variants-single")),
        had_variants=had_variants,
    )
    for i, option in enumerate(editor.options):
        option.name = " ".join(_field(form, f"options-{i}-name").split())
        option.values = _field(form, f"options-{i}-values").strip()
    for j in range(variants.MAX_VARIANTS + 1):
        prefix = f"variants-{j}-"
        if prefix + "price" not in form and prefix + "value1" not in form:
            break
        if j == variants.MAX_VARIANTS:
            editor.errors.append(error_text("too_many_variants"))
            break
        values = [_field(form, f"{prefix}value{k}").strip() for k in (1, 2, 3)]
        editor.rows.append(
            VariantRow(
                [v for v in values if v],
                price=_field(form, prefix + "price"),
                sale_price=_field(form, prefix + "sale_price"),
                stock=_field(form, prefix + "stock"),
                sku=_field(form, prefix + "sku"),
                image_id=_field(form, prefix + "image_id"),
                seen_stock=_field(form, prefix + "seen_stock"),
            )
        )
    if editor.make_rows:
        editor.generate()
    return editor


def _money(amount: int | None, locale: str) -> str:
    if amount is None:
        return ""
    unit = money_unit(str(current_app.config["MARKET_CURRENCY"]))
    if unit == TOMAN_RIALS:
        return format_number(amount // unit, locale)
    major, minor = divmod(amount, unit)
    text = f"{major}.{minor:02d}"
    return persian_digits(text).replace(".", "\u066b") if locale == "fa" else text


def from_product(product: Product | None, locale: str) -> Editor:
    """The section for a listing as it is saved (empty for a new one)."""
    editor = Editor()
    if product is None or not product.has_variants:
        return editor
    editor.had_variants = True
    for option, slot in zip(variants.options_of(product.id), editor.options, strict=False):
        slot.name = option.name
        slot.values = "، ".join(option.values)
    for variant in variants.variants_of(product.id):
        editor.rows.append(
            VariantRow(
                variant.values,
                price=_money(variant.price_amount, locale),
                sale_price=_money(variant.sale_price_amount, locale),
                stock=format_number(variant.stock, locale),
                sku=variant.sku or "",
                image_id=str(variant.image_id or ""),
                seen_stock=str(variant.stock),
            )
        )
    return editor

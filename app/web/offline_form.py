"""The offline sale form, shared by the staff and seller areas (HTTP side: parse, no rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from app.catalog.models import Seller
from app.core.errors import NotAllowed, ValidationFailed
from app.core.inputs import optional_int, optional_money, parse_date
from app.orders.errors import OutOfStock
from app.program import offline
from app.program.offline import OfflineLineInput
from app.program.sales_models import OfflineSale
from app.web.messages import error_text

LINE_ROWS = 5


def _number(text: str | None) -> int | None:
    """Digits of any script with separators (``1,250``, ``۱٬۲۵۰``); None when empty, -1 when
    not a whole number of at most 15 digits (a negative number stays negative: both are refused)."""
    try:
        return optional_int(text, max_digits=15)
    except ValueError:
        return -1


def _amount(text: str | None, currency: str) -> int | None:
    """An amount in the market's typed unit (toman for rials), in the stored unit; None when
    empty, -1 when it is no amount (a negative one stays negative: both are refused)."""
    try:
        return optional_money(text, currency, max_digits=15)
    except ValueError:
        return -1


def _choice(text: str | None) -> tuple[int | None, int | None]:
    """A product choice: ``"<product id>"`` or ``"<product id>:<variant id>"`` (a variant of
    a product with options); (-1, None) when malformed."""
    product, colon, variant = str(text or "").partition(":")
    product_id = _number(product)
    if not colon:
        return product_id, None
    variant_id = _number(variant)
    if product_id is None or variant_id is None or variant_id <= 0:
        return -1, None
    return product_id, variant_id


@dataclass
class OfflineForm:
    """What was typed, kept to show the form again, and the values for the service."""

    data: Mapping[str, Any] = field(default_factory=dict)
    sold_on: date | None = None
    place: str = ""
    note: str = ""
    take_stock: bool = False
    lines: list[OfflineLineInput] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return str(self.data.get(name, ""))


def parse(data: Mapping[str, Any]) -> OfflineForm:
    """Read the form: the date (Jalali or Gregorian), the place, and up to ``LINE_ROWS`` lines of
    product, title, quantity and amount in the market's typed unit (toman, stored in rials)."""
    form = OfflineForm(data=data)
    currency = current_app.config["MARKET_CURRENCY"]
    try:
        form.sold_on = parse_date(data.get("sold_on"))
    except ValueError:
        form.errors["sold_on"] = ["invalid"]
    form.place = str(data.get("place", ""))
    form.note = str(data.get("note", ""))
    form.take_stock = bool(data.get("take_stock"))
    for i in range(LINE_ROWS):
        product_id, variant_id = _choice(data.get(f"line-{i}-product_id"))
        title = str(data.get(f"line-{i}-title", "")).strip()
        quantity = _number(data.get(f"line-{i}-quantity"))
        amount = _amount(data.get(f"line-{i}-amount"), currency)
        if not product_id and not title and quantity is None and amount is None:
            continue
        if (product_id or 0) < 0 or quantity is None or quantity <= 0 or quantity > 100_000:
            form.errors.setdefault("lines", []).append("quantity_positive")
            continue
        if amount is None or amount < 0:
            form.errors.setdefault("lines", []).append("amount_non_negative")
            continue
        form.lines.append(OfflineLineInput(product_id or None, title, quantity, amount, variant_id))
    if not form.lines and "lines" not in form.errors:
        form.errors["lines"] = ["required"]
    return form


def error_messages(errors: dict[str, list[str]]) -> list[str]:
    """The form's error codes as sentences in the visitor's language."""
    texts = {
        "quantity_positive": lambda: _("Each line needs a quantity of at least 1."),
        "amount_non_negative": lambda: _("Each line needs an amount in toman (0 or more)."),
        "in_future": lambda: _("The date of the sale cannot be in the future."),
        "too_old": lambda: _("The date of the sale is more than three years ago."),
        "stock_needs_product": lambda: _(
            "To take the quantities from the online stock, choose a product on every line."
        ),
        "invalid": lambda: _("Please enter a valid value."),
        "required": lambda: _("This field is required."),
    }
    labels = {
        "sold_on": lambda: _("Date of the sale"),
        "place": lambda: _("Place"),
        "lines": lambda: _("Products"),
        "seller": lambda: _("Seller"),
    }
    out = []
    for name, codes in errors.items():
        label = labels[name]() if name in labels else name
        for code in dict.fromkeys(codes):
            text = texts[code]() if code in texts else error_text(code)
            out.append(f"{label}: {text}")
    return out


def submit(
    form: OfflineForm,
    seller: Seller | None,
    actor_id: int,
    *,
    foreign_product: str,
    errors: dict[str, list[str]] | None = None,
) -> tuple[OfflineSale | None, list[str]]:
    """Record the sale the form describes for ``seller``; returns (the sale or None, messages).

    ``errors`` adds the caller's own field errors; ``foreign_product`` is the message shown when a
    line names a product of another seller (staff and sellers are told it differently).
    """
    errors = {**form.errors, **(errors or {})}
    messages: list[str] = []
    if not errors and seller is not None and form.sold_on is not None:
        try:
            return offline.record_offline_sale(
                seller,
                actor_id,
                sold_on=form.sold_on,
                place=form.place,
                lines=form.lines,
                note=form.note,
                take_stock=form.take_stock,
            ), []
        except ValidationFailed as exc:
            errors = exc.errors
        except NotAllowed:
            messages.append(foreign_product)
        except OutOfStock as exc:
            messages.append(_("Not enough %(title)s in stock.", title=exc.title))
    return None, error_messages(errors) + messages

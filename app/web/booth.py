"""The booth page's entries (shared by the seller's and the staff's booth): read the JSON a
phone sends, record it through the offline sale service, answer in JSON (HTTP side, no rules).

An entry: ``{"client_key": "…", "sold_on": "2026-12-05", "place": "…", "payment_method":
"cash" | "card", "take_stock": false, "lines": [{"product_id": 12, "variant_id": null,
"quantity": 2, "price": "۱۲۰٬۰۰۰"}]}`` — ``price`` is one unit's price in the market's typed
unit (toman for rials), in any digits; ``variant_id`` names the variant of a listing with
options (its stock is the one taken). The answer is the record's id and amount (200), or ``{"error": …}`` with a 400 (the
phone shows it and does not send the entry again) or a 409 (not enough stock).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flask import Response, current_app
from flask_babel import gettext as _

from app.catalog.models import Seller
from app.core.db import database_id
from app.core.errors import NotAllowed, ValidationFailed
from app.core.formatting import format_money
from app.core.inputs import TOMAN_RIALS, money_unit, optional_int, optional_money, parse_date
from app.orders.errors import OutOfStock
from app.program import booth, offline
from app.program.offline import OfflineLineInput
from app.program.sales_models import PAYMENT_METHODS
from app.web.i18n import locale_code
from app.web.offline_form import error_messages

MAX_LINES = 50
MAX_QUANTITY = 100_000
MAX_LINE_AMOUNT = 10**15  # in the stored unit: a line beyond this is a typo, not a sale


def _text(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _whole(value: object) -> int | None:
    """A whole number sent as a JSON number or a text in any digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return optional_int(value[:40], max_digits=15)
        except ValueError:
            return None
    return None


def _price(value: object, currency: str) -> int | None:
    """One unit's price typed in the market's unit, in the stored unit; None when it is none."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return optional_money(str(value)[:40], currency, max_digits=15)
    except ValueError:
        return None


def read_entry(payload: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The service's arguments from a phone's entry, and the field errors found reading it."""
    errors: dict[str, list[str]] = {}
    if not isinstance(payload, dict):
        return {}, {"entry": ["unreadable"]}
    currency = current_app.config["MARKET_CURRENCY"]
    key = _text(payload.get("client_key"), 41)
    if not key or not offline.CLIENT_KEY.fullmatch(key):
        errors["client_key"] = ["invalid"]
    sold_on: date | None = None
    try:
        sold_on = parse_date(_text(payload.get("sold_on"), 20) or "")
    except ValueError:
        errors["sold_on"] = ["invalid"]
    method = payload.get("payment_method")
    if method not in PAYMENT_METHODS:
        errors["payment_method"] = ["required"]
    lines: list[OfflineLineInput] = []
    raw_lines = payload.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines or len(raw_lines) > MAX_LINES:
        errors["lines"] = ["required"]
        raw_lines = []
    for raw in raw_lines:
        if not isinstance(raw, dict):
            errors.setdefault("lines", []).append("invalid")
            continue
        product_id = database_id(_whole(raw.get("product_id")))
        raw_variant = raw.get("variant_id")
        variant_id = database_id(_whole(raw_variant)) if raw_variant is not None else None
        quantity = _whole(raw.get("quantity"))
        price = _price(raw.get("price"), currency)
        if product_id is None or (raw_variant is not None and variant_id is None):
            errors.setdefault("lines", []).append("invalid")
        elif quantity is None or quantity <= 0 or quantity > MAX_QUANTITY:
            errors.setdefault("lines", []).append("quantity_positive")
        elif price is None or price < 0:
            errors.setdefault("lines", []).append("amount_non_negative")
        elif price * quantity > MAX_LINE_AMOUNT:
            errors.setdefault("lines", []).append("amount_too_large")
        else:
            lines.append(
                OfflineLineInput(product_id, "", quantity, price * quantity, variant_id=variant_id)
            )
    args = {
        "client_key": key,
        "sold_on": sold_on,
        "place": _text(payload.get("place"), 400) or "",
        "payment_method": method,
        "take_stock": payload.get("take_stock") is True,
        "lines": lines,
    }
    return args, errors


def _messages(errors: dict[str, list[str]]) -> list[str]:
    """The entry's error codes as sentences in the visitor's language."""
    texts = {
        "unreadable": _("The entry could not be read. Please record it again."),
        "amount_too_large": _(
            "A line's amount is too large. Please check the price and the quantity."
        ),
    }
    known = {"entry", "client_key", "payment_method"}
    out = [texts[c] for codes in errors.values() for c in codes if c in texts]
    rest = {name: [c for c in codes if c not in texts] for name, codes in errors.items()}
    if rest.get("client_key"):
        out.append(_("The entry's key is not valid. Please record it again."))
    if rest.get("payment_method"):
        out.append(_("Choose cash or card."))
    out += error_messages({n: c for n, c in rest.items() if c and n not in known})
    return out


def record(
    seller: Seller, actor_id: int, payload: Any, *, foreign_product: str
) -> tuple[dict[str, Any], int]:
    """Record the entry ``payload`` for ``seller``; returns (the JSON answer, its status)."""
    args, errors = read_entry(payload)
    if not errors:
        try:
            sale = offline.record_offline_sale(seller, actor_id, **args)
        except ValidationFailed as exc:
            errors = exc.errors
        except NotAllowed:
            return {"error": foreign_product}, 400
        except OutOfStock as exc:
            return {"error": _("Not enough %(title)s in stock.", title=exc.title)}, 409
        else:
            currency = current_app.config["MARKET_CURRENCY"]
            return {
                "id": sale.id,
                "client_key": sale.client_key,
                "amount": sale.amount,
                "amount_text": format_money(sale.amount, currency, locale_code()),
            }, 200
    return {"error": " ".join(_messages(errors)), "errors": errors}, 400


def worker_response(scope: str) -> Response:
    """The booth's service worker (``static/js/booth-sw.js``) for the booth page at ``scope``:
    served from the booth's own address, and allowed that scope (the page's address is not
    under the script's folder)."""
    script = Path(current_app.static_folder or "static", "js", "booth-sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = scope
    response.headers["Cache-Control"] = "no-cache"
    return response


def page_context(
    seller: Seller, user_id: int, *, record_url: str, form_url: str, worker_url: str
) -> dict[str, Any]:
    """What ``templates/_booth.html`` needs for ``seller``'s booth opened by user ``user_id``."""
    currency = current_app.config["MARKET_CURRENCY"]
    unit = money_unit(currency)
    label = _("toman") if unit == TOMAN_RIALS else currency

    def typed_price(amount: int) -> str:
        """An amount in the typed unit, as the price field starts (ASCII digits)."""
        if unit == TOMAN_RIALS:
            return str((amount + 5) // unit)
        major, minor = divmod(amount, unit)
        return f"{major}.{minor:02d}"

    return {
        "seller": seller,
        "products": booth.booth_products(seller.id),
        "record_url": record_url,
        "form_url": form_url,
        "worker_url": worker_url,
        # Two people (or two sellers a staff member records for) on one phone keep apart.
        "queue_key": f"{user_id}-{seller.id}",
        "unit": unit,
        "money_label": label,
        "typed_price": typed_price,
    }

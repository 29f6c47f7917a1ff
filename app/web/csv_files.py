"""The staff's CSV files in the page's language: headers and file names.

The exports (``app.program.exports`` and the admin routes) name their columns with stable keys
(``total_amount_toman``). In the English interface those keys are the header, as before; in the
Persian one each key is written as its Persian label below (a key without a label stays a key). A
file's name says its period in Jalali days in Persian (``sales_1405-09-01_1405-09-30.csv``, ASCII
digits so every system can save it) and in Gregorian days in English. Files read back by a program
(the quotas file, the bank's transfer list, the sellers' import samples) keep their fixed form and do
not come through here.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response
from flask_babel import lazy_gettext as _l

from app.program.calendar import Period, jalali_iso
from app.web.http import csv_response
from app.web.i18n import locale_code

COLUMN_LABELS = {
    "period_start": _l("Period start"),
    "period_end": _l("Period end"),
    "period_start_jalali": _l("Period start (Jalali)"),
    "period_end_jalali": _l("Period end (Jalali)"),
    "county_id": _l("County ID"),
    "county_slug": _l("County code"),
    "county": _l("County"),
    "sector_id": _l("Sector ID"),
    "sector": _l("Sector"),
    "registered_applicants": _l("Registered applicants"),
    "approved_sellers": _l("Approved sellers"),
    "sellers_with_listing": _l("Sellers with a listing"),
    "sellers_with_first_sale": _l("Sellers with a first sale"),
    "sellers_with_repeat_sales": _l("Sellers with repeat sales"),
    "programme_year": _l("Programme year"),
    "target_sellers": _l("Target sellers"),
    "quota_progress": _l("Progress to the seller target"),
    "target_sales_amount_toman": _l("Sales target (toman)"),
    "programme_year_sales_toman": _l("Programme year sales (toman)"),
    "sales_progress": _l("Progress to the sales target"),
    "card_amount_toman": _l("Card sales (toman)"),
    "cash_amount_toman": _l("Cash on delivery sales (toman)"),
    "offline_amount_toman": _l("Offline sales (toman)"),
    "sales_amount_toman": _l("Sales (toman)"),
    "total_amount_toman": _l("Total sales (toman)"),
    "card_amount_rial": _l("Card sales (rial)"),
    "cash_amount_rial": _l("Cash on delivery sales (rial)"),
    "offline_amount_rial": _l("Offline sales (rial)"),
    "total_amount_rial": _l("Total sales (rial)"),
    "amount_toman": _l("Amount (toman)"),
    "price_toman": _l("Price (toman)"),
    "share_of_province": _l("Share of the province"),
    "sales": _l("Number of sales"),
    "paid_online_orders": _l("Paid online orders"),
    "units": _l("Units"),
    "approved_sellers_with_sale": _l("Approved sellers with a sale"),
    "market_connection": _l("Market connection"),
    "product_views": _l("Product views"),
    "orders_per_100_views": _l("Orders per 100 views"),
    "price_ratio": _l("Price ratio"),
    "stock_units": _l("Units in stock"),
    "absorption": _l("Absorption"),
    "falls_behind": _l("Falls behind"),
    "seller_id": _l("Seller ID"),
    "seller": _l("Seller"),
    "registration_code": _l("Registration code"),
    "orders": _l("Orders"),
    "buyers": _l("Buyers"),
    "repeat_buyers": _l("Repeat buyers"),
    "first_sale": _l("First sale"),
    "first_sale_jalali": _l("First sale (Jalali)"),
    "last_sale": _l("Last sale"),
    "last_sale_jalali": _l("Last sale (Jalali)"),
    "business_name": _l("Business name"),
    "sale_id": _l("Sale ID"),
    "sold_on": _l("Sold on"),
    "sold_on_jalali": _l("Sold on (Jalali)"),
    "place": _l("Place"),
    "products": _l("Products"),
    "took_stock": _l("Took stock"),
    "recorded_by": _l("Recorded by"),
    "note": _l("Note"),
    "created_at": _l("Created at"),
    "created_at_jalali": _l("Created at (Jalali)"),
    "stage": _l("Stage"),
    "sellers": _l("Sellers"),
    "share_of_target": _l("Share of the target"),
    "jalali_year": _l("Jalali year"),
    "jalali_month": _l("Jalali month"),
    "month_start": _l("Month start"),
    "month_end": _l("Month end"),
    "status": _l("Status"),
    "sales_to_date": _l("Sales to date"),
    "category_id": _l("Category ID"),
    "category": _l("Category"),
    "product_id": _l("Product ID"),
    "title": _l("Title"),
    "stock": _l("Stock"),
    "moderation": _l("Moderation"),
    "hidden_reason": _l("Reason hidden"),
    "published_at": _l("Published at"),
    "published_at_jalali": _l("Published at (Jalali)"),
    "updated_at": _l("Updated at"),
    "id": _l("ID"),
    "actor_id": _l("Actor ID"),
    "actor": _l("Actor"),
    "actor_email": _l("Actor's e-mail"),
    "action": _l("Action code"),
    "action_label": _l("Action"),
    "target_type": _l("Target type"),
    "target_id": _l("Target ID"),
    "reason": _l("Reason"),
    "data": _l("Data"),
    "owner": _l("Owner"),
    "email": _l("E-mail"),
    "status_reason": _l("Status reason"),
    "applied_at": _l("Applied at"),
    "applied_at_jalali": _l("Applied at (Jalali)"),
    "approved_at": _l("Approved at"),
    "approved_at_jalali": _l("Approved at (Jalali)"),
    "training_completed_on": _l("Training completed on"),
    "permit_number": _l("Permit number"),
    "order_id": _l("Order ID"),
    "placed_on": _l("Placed on"),
    "placed_on_jalali": _l("Placed on (Jalali)"),
    "paid_on": _l("Paid on"),
    "product": _l("Product"),
    "variant": _l("Variant"),
    "sku": _l("SKU"),
    "quantity": _l("Quantity"),
    "unit_price_toman": _l("Unit price (toman)"),
    "line_total_toman": _l("Line total (toman)"),
}


def header_in_page_language(header: list[str]) -> list[str]:
    """The column keys as the header of a file for this page's reader (see the module)."""
    if locale_code() != "fa":
        return list(header)
    return [str(COLUMN_LABELS[key]) if key in COLUMN_LABELS else key for key in header]


def file_name(stem: str, period: Period | None = None, tail: str = "") -> str:
    """``stem``, the period's first and last day (Jalali in Persian), ``tail``, ``.csv``."""
    name = stem
    if period is not None:
        if locale_code() == "fa":
            name += f"_{jalali_iso(period.start)}_{jalali_iso(period.end)}"
        else:
            name += f"_{period.file_slug()}"
    return f"{name}{tail}.csv"


def staff_csv(
    header: list[str],
    rows: Iterable[Iterable[object]],
    stem: str,
    period: Period | None = None,
    tail: str = "",
) -> Response:
    """A staff CSV: its header in the page's language, its name from :func:`file_name`."""
    return csv_response(header_in_page_language(header), rows, file_name(stem, period, tail))

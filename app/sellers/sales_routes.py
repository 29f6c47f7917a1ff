"""The seller's sales by variant (page and CSV) and the lines of their orders as a CSV, each
line with the variant's label and SKU as sold."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from app.core.errors import ValidationFailed
from app.program import lines
from app.program.calendar import Period, parse_period
from app.sellers import bp
from app.sellers.routes import current_seller
from app.web.http import csv_response
from app.web.i18n import locale_code


def _period(default: str) -> Period:
    """The period the query string asks for (``default`` kind when it names none); a 400
    for one that cannot be read."""
    args = request.args.to_dict()
    args.setdefault("period", default)
    try:
        return parse_period(args)
    except ValidationFailed:
        abort(400)


@bp.get("/sales/variants")
def variant_sales() -> ResponseReturnValue:
    """Units and sales volume per product and variant in a period (this Jalali year unless
    the query string asks for another)."""
    seller = current_seller()
    period = _period("year")
    return render_template(
        "sellers/variant_sales.html",
        rows=lines.variant_sales(seller.id, period),
        period=period,
        period_label=period.label(locale_code()),
    )


@bp.get("/sales/variants.csv")
def variant_sales_csv() -> ResponseReturnValue:
    seller = current_seller()
    period = _period("year")
    header, rows = lines.variant_sales_table(lines.variant_sales(seller.id, period), period)
    return csv_response(header, rows, f"sales-by-variant-{seller.slug}-{period.file_slug()}.csv")


@bp.get("/orders.csv")
def orders_csv() -> ResponseReturnValue:
    """Every line of the seller's orders placed in a period (this Jalali month unless asked
    otherwise), with the variant and SKU as sold."""
    seller = current_seller()
    period = _period("month")
    header, rows = lines.order_lines_table(period, seller.id)
    return csv_response(header, rows, f"orders-{seller.slug}-{period.file_slug()}.csv")

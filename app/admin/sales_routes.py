"""Staff area: sales volume per seller (page, drill-down, CSV exports) and offline sales."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.admin.report_args import filter_choices, page_locale, period_arg, period_choices
from app.catalog.models import Seller, SellerStatus
from app.core.db import database_id
from app.program import exports, lines, offline, reports
from app.program.calendar import Period
from app.web import booth, offline_form
from app.web.access import staff_scope
from app.web.csv_files import file_name, staff_csv
from app.web.http import csv_response, page_arg

PER_PAGE = 50
OFFLINE_PER_PAGE = 50


@bp.get("/sales")
def sales_report() -> ResponseReturnValue:
    period = period_arg()
    filters = reports.Filters.from_args(request.args, staff_scope())
    sort = reports.sort_arg(request.args.get("sort"))
    report = reports.seller_sales(
        period, filters, sort=sort, page=page_arg(), per_page=PER_PAGE, locale=page_locale()
    )
    return render_template(
        "admin/sales.html",
        period=period,
        filters=filters,
        sort=sort,
        report=report,
        columns=_columns(),
        **filter_choices(),
        **period_choices(period),
    )


def _columns() -> list[tuple[str, str, bool]]:
    """(key, heading, numeric) of the report's columns, in order."""
    return [
        ("seller", _("Business"), False),
        ("county", _("County"), False),
        ("sector", _("Sector"), False),
        ("registration_code", _("Registration code"), False),
        ("card_amount", _("Card"), True),
        ("cash_amount", _("Cash on delivery"), True),
        ("offline_amount", _("Offline"), True),
        ("total_amount", _("Sales volume"), True),
        ("orders", _("Orders"), True),
        ("units", _("Units"), True),
        ("buyers", _("Buyers"), True),
        ("repeat_buyers", _("Repeat buyers"), True),
        ("first_sale", _("First sale"), False),
        ("last_sale", _("Last sale"), False),
    ]


def _all_rows(period: Period) -> list[reports.SellerSales]:
    """Every seller the page's filters and sort select (no paging)."""
    filters = reports.Filters.from_args(request.args, staff_scope())
    sort = request.args.get("sort", reports.DEFAULT_SORT)
    return reports.seller_sales(period, filters, sort=sort, page=None, locale=page_locale()).items


@bp.get("/sales.csv")
def sales_csv() -> ResponseReturnValue:
    period = period_arg()
    header, rows = exports.seller_sales_table(_all_rows(period))
    return staff_csv(header, rows, "sales", period)


@bp.get("/sales/ministry.csv")
def sales_ministry_csv() -> ResponseReturnValue:
    """One row per approved seller keyed by programme registration code, amounts in rials and
    in toman. The ministry's format: its header stays the column keys in either language."""
    period = period_arg()
    header, rows = exports.ministry_table(period, _all_rows(period))
    return csv_response(header, rows, file_name("ministry_sales", period))


@bp.get("/sales/lines.csv")
def sales_lines_csv() -> ResponseReturnValue:
    """Every order line of the orders placed in the period, of every seller, with the
    variant's label and SKU as sold."""
    period = period_arg()
    header, rows = lines.order_lines_table(period)
    return staff_csv(header, rows, "order_lines", period)


@bp.get("/sales/<int:seller_id>")
def sales_seller(seller_id: int) -> ResponseReturnValue:
    seller = reports.approved_seller(seller_id, staff_scope())
    if seller is None:
        abort(404)
    period = period_arg()
    detail = reports.seller_detail(seller, period, locale=page_locale())
    return render_template(
        "admin/sales_seller.html",
        seller=seller,
        period=period,
        detail=detail,
        **period_choices(period),
    )


# ---- offline sales ----------------------------------------------------------------------------


@bp.route("/offline-sales/new", methods=["GET", "POST"])
def new_offline_sale() -> ResponseReturnValue:
    form = offline_form.parse(request.form) if request.method == "POST" else None
    messages: list[str] = []
    scope = staff_scope()
    seller = offline.approved_seller(
        request.form.get("seller_id", "") if form else request.args.get("seller_id", ""), scope
    )
    if form is not None:
        sale, messages = offline_form.submit(
            form,
            seller,
            current_user.id,
            foreign_product=_("A product on the list does not belong to this seller."),
            errors={"seller": ["required"]} if seller is None else None,
        )
        if sale is not None and seller is not None:
            flash(_("Offline sale recorded for %(name)s.", name=seller.display_name), "success")
            return redirect(url_for("admin.offline_sales", seller_id=sale.seller_id))
    return (
        render_template(
            "admin/offline_sale_form.html",
            form=form or offline_form.OfflineForm(),
            seller=seller,
            sellers=offline.seller_choices(scope),
            products=offline.seller_products(seller.id) if seller is not None else [],
            messages=messages,
            line_rows=range(offline_form.LINE_ROWS),
        ),
        400 if messages else 200,
    )


def _booth_seller(seller_id: int) -> Seller:
    seller = offline.seller_by_id(seller_id, staff_scope())
    if seller is None or seller.status != SellerStatus.APPROVED:
        abort(404)
    return seller


@bp.get("/sellers/<int:seller_id>/booth")
def booth_page(seller_id: int) -> ResponseReturnValue:
    """The booth for staff recording a seller's sales at a fair (recorded as staff's offline
    sales are: by them, in the audit trail)."""
    seller = _booth_seller(seller_id)
    return render_template(
        "admin/booth.html",
        **booth.page_context(
            seller,
            current_user.id,
            record_url=url_for("admin.booth_entry", seller_id=seller.id),
            form_url=url_for("admin.new_offline_sale", seller_id=seller.id),
            worker_url=url_for("admin.booth_worker", seller_id=seller.id),
        ),
    )


@bp.get("/sellers/<int:seller_id>/booth/worker.js")
def booth_worker(seller_id: int) -> ResponseReturnValue:
    return booth.worker_response(url_for("admin.booth_page", seller_id=_booth_seller(seller_id).id))


@bp.post("/sellers/<int:seller_id>/booth/entries")
def booth_entry(seller_id: int) -> ResponseReturnValue:
    seller = _booth_seller(seller_id)
    body, status = booth.record(
        seller,
        current_user.id,
        request.get_json(silent=True),
        foreign_product=_("A product on the list does not belong to this seller."),
    )
    return jsonify(body), status


def _seller_id_arg() -> int | None:
    """``seller_id`` from the query string; out of the database's id range counts as none."""
    return database_id(request.args.get("seller_id"))


@bp.get("/offline-sales")
def offline_sales() -> ResponseReturnValue:
    seller_id = _seller_id_arg()
    scope = staff_scope()
    return render_template(
        "admin/offline_sales.html",
        page=offline.offline_sales_page(seller_id, page_arg(), OFFLINE_PER_PAGE, scope),
        seller=offline.seller_by_id(seller_id, scope),
        currency=current_app.config["MARKET_CURRENCY"],
    )


@bp.get("/offline-sales.csv")
def offline_sales_csv() -> ResponseReturnValue:
    """The offline sales table (of one seller with ``seller_id``), every row."""
    header, rows = exports.offline_sales_table(
        offline.all_offline_sales(_seller_id_arg(), staff_scope())
    )
    return staff_csv(header, rows, "offline_sales")


@bp.post("/offline-sales/<int:sale_id>/delete")
def delete_offline_sale(sale_id: int) -> ResponseReturnValue:
    sale = offline.find_sale(sale_id, staff_scope())
    if sale is None:
        abort(404)
    seller_id = sale.seller_id
    offline.delete_offline_sale(sale, current_user.id)
    flash(_("The offline sale was deleted; the reports no longer count it."), "success")
    return redirect(url_for("admin.offline_sales", seller_id=seller_id))

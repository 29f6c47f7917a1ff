"""Staff area: sales volume per seller (page, drill-down, CSV exports) and offline sales."""

from __future__ import annotations

import jdatetime
import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.admin import bp
from app.catalog.models import Category, Product, Seller, SellerStatus
from app.core.db import database_id
from app.core.extensions import db
from app.core.inputs import normalise_code
from app.core.pagination import page_of
from app.program import sales
from app.program.sales_models import OfflineSale
from app.reference.models import County, Sector
from app.web import offline_form
from app.web.http import csv_response, page_arg

PER_PAGE = 50
OFFLINE_PER_PAGE = 50


def _locale() -> str:
    return str(get_locale() or "fa")


def _choices() -> dict[str, list]:
    """Counties, sectors, categories and training years for the filters."""
    locale = _locale()
    name = "name_en" if locale == "en" else "name_fa"
    years = sorted(
        {
            jdatetime.date.fromgregorian(date=d).year
            for d in db.session.scalars(
                sa.select(Seller.training_completed_on)
                .where(Seller.training_completed_on.is_not(None))
                .distinct()
            )
        },
        reverse=True,
    )
    return {
        "counties": db.session.execute(
            sa.select(County.id, getattr(County, name)).order_by(getattr(County, name))
        ).all(),
        "sectors": db.session.execute(
            sa.select(Sector.id, getattr(Sector, name)).order_by(getattr(Sector, name))
        ).all(),
        "categories": db.session.execute(
            sa.select(Category.id, getattr(Category, name)).order_by(getattr(Category, name))
        ).all(),
        "cohorts": years,
    }


def _period_choices(period: sales.Period) -> dict[str, object]:
    this_year, _month = sales.jalali_month_of(sales.tehran_today())
    return {
        "years": list(range(this_year, this_year - 6, -1)),
        "months": [(m, sales.month_label(2000, m, _locale()).split(" ")[0]) for m in range(1, 13)],
        "seasons": list(enumerate(sales.SEASONS_FA if _locale() == "fa" else sales.SEASONS_EN, 1)),
        "period_year": period.year or this_year,
    }


@bp.get("/sales")
def sales_report():
    period = sales.parse_period(request.args)
    filters = sales.Filters.from_args(request.args)
    sort = request.args.get("sort", "-total_amount")
    if sort.lstrip("-") not in sales.SORT_COLUMNS:
        sort = "-total_amount"
    report = sales.seller_sales(
        period, filters, sort=sort, page=page_arg(), per_page=PER_PAGE, locale=_locale()
    )
    return render_template(
        "admin/sales.html",
        period=period,
        filters=filters,
        sort=sort,
        report=report,
        columns=_columns(),
        **_choices(),
        **_period_choices(period),
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


def _jalali(day) -> str:  # type: ignore[no-untyped-def]
    if day is None:
        return ""
    j = jdatetime.date.fromgregorian(date=day)
    return f"{j.year:04d}-{j.month:02d}-{j.day:02d}"


def _all_rows(period: sales.Period) -> list[sales.SellerSales]:
    filters = sales.Filters.from_args(request.args)
    sort = request.args.get("sort", "-total_amount")
    return sales.seller_sales(period, filters, sort=sort, page=None, locale=_locale()).items


@bp.get("/sales.csv")
def sales_csv():
    period = sales.parse_period(request.args)
    header = [
        "seller_id", "seller", "county", "sector", "registration_code", "card_amount",
        "cash_amount", "offline_amount", "total_amount", "orders", "units", "buyers",
        "repeat_buyers", "first_sale", "first_sale_jalali", "last_sale", "last_sale_jalali",
    ]  # fmt: skip
    rows = [
        [r.seller_id, r.seller, r.county, r.sector, r.registration_code, r.card_amount,
         r.cash_amount, r.offline_amount, r.total_amount, r.orders, r.units, r.buyers,
         r.repeat_buyers, r.first_sale.isoformat() if r.first_sale else None,
         _jalali(r.first_sale), r.last_sale.isoformat() if r.last_sale else None,
         _jalali(r.last_sale)]
        for r in _all_rows(period)
    ]  # fmt: skip
    return csv_response(header, rows, f"sales_{period.file_slug()}.csv")


@bp.get("/sales/ministry.csv")
def sales_ministry_csv():
    """One row per approved seller keyed by programme registration code, amounts in rials."""
    period = sales.parse_period(request.args)
    header = [
        "registration_code", "business_name", "county", "sector", "period_start",
        "period_end", "period_start_jalali", "period_end_jalali", "card_amount_rial",
        "cash_amount_rial", "offline_amount_rial", "total_amount_rial", "orders", "units",
        "buyers", "repeat_buyers",
    ]  # fmt: skip
    # Codes saved before they were normalised on input are written in the same one form.
    rows = [
        [normalise_code(r.registration_code) or None, r.seller, r.county, r.sector,
         period.start.isoformat(),
         period.end.isoformat(), _jalali(period.start), _jalali(period.end), r.card_amount,
         r.cash_amount, r.offline_amount, r.total_amount, r.orders, r.units, r.buyers,
         r.repeat_buyers]
        for r in sorted(_all_rows(period), key=lambda r: normalise_code(r.registration_code))
    ]  # fmt: skip
    return csv_response(header, rows, f"ministry_sales_{period.file_slug()}.csv")


def _bars(months: list[sales.MonthFigures], rtl: bool) -> dict[str, object]:
    """Geometry of the monthly bar chart (drawn by the template as SVG); months run from the
    right in a right-to-left page."""
    width, height, top, bottom = 720, 240, 16, 40
    peak = max((m.total_amount for m in months), default=0) or 1
    step = width / max(len(months), 1)
    bars = []
    for n, m in enumerate(months):
        i = len(months) - 1 - n if rtl else n
        h = round((height - top - bottom) * m.total_amount / peak)
        bars.append(
            {"x": round(i * step + step * 0.15), "w": round(step * 0.7),
             "y": height - bottom - h, "h": h, "month": m, "cx": round(i * step + step / 2)}
        )  # fmt: skip
    return {"width": width, "height": height, "base": height - bottom, "bars": bars}


@bp.get("/sales/<int:seller_id>")
def sales_seller(seller_id: int):
    seller = db.session.get(Seller, seller_id)
    if seller is None or seller.status != SellerStatus.APPROVED:
        abort(404)
    period = sales.parse_period(request.args)
    detail = sales.seller_detail(seller, period, locale=_locale())
    return render_template(
        "admin/sales_seller.html",
        seller=seller,
        period=period,
        detail=detail,
        chart=_bars(detail.months, _locale() == "fa"),
        **_period_choices(period),
    )


# ---- offline sales ----------------------------------------------------------------------------


def _find_seller(raw: str) -> Seller | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    seller = None
    seller_id = database_id(raw)
    if seller_id is not None:
        seller = db.session.get(Seller, seller_id)
    if seller is None:
        # Codes are stored normalised; one saved before that is found as typed.
        codes = {normalise_code(raw), raw}
        seller = db.session.scalar(
            sa.select(Seller).where(Seller.registration_code.in_(codes)).limit(1)
        )
    return seller if seller is not None and seller.status == SellerStatus.APPROVED else None


def _approved_sellers() -> list[tuple[int, str, str | None]] | None:
    """The sellers for a drop-down, or None when there are too many (a code is typed instead)."""
    rows = db.session.execute(
        sa.select(Seller.id, Seller.display_name, Seller.registration_code)
        .where(Seller.status == SellerStatus.APPROVED)
        .order_by(Seller.display_name)
        .limit(301)
    ).all()
    return None if len(rows) > 300 else rows


@bp.route("/offline-sales/new", methods=["GET", "POST"])
def new_offline_sale():
    form = offline_form.parse(request.form) if request.method == "POST" else None
    messages: list[str] = []
    seller = _find_seller(
        request.form.get("seller_id", "") if form else request.args.get("seller_id", "")
    )
    if form is not None:
        sale, messages = offline_form.submit(
            form,
            seller,
            current_user.id,
            foreign_product=_("A product on the list does not belong to this seller."),
            errors={"seller": ["required"]} if seller is None else None,
        )
        if sale is not None:
            flash(_("Offline sale recorded for %(name)s.", name=seller.display_name), "success")
            return redirect(url_for("admin.offline_sales", seller_id=sale.seller_id))
    products = (
        db.session.execute(
            sa.select(Product.id, Product.title, Product.stock)
            .where(Product.seller_id == seller.id)
            .order_by(Product.title)
        ).all()
        if seller is not None
        else []
    )
    return (
        render_template(
            "admin/offline_sale_form.html",
            form=form or offline_form.OfflineForm(),
            seller=seller,
            sellers=_approved_sellers(),
            products=products,
            messages=messages,
            line_rows=range(offline_form.LINE_ROWS),
        ),
        400 if messages else 200,
    )


def _seller_id_arg() -> int | None:
    """``seller_id`` from the query string; out of the database's id range counts as none."""
    return database_id(request.args.get("seller_id"))


def _offline_query(seller_id: int | None) -> sa.Select[tuple[OfflineSale]]:
    stmt = sa.select(OfflineSale).options(
        selectinload(OfflineSale.lines),
        selectinload(OfflineSale.seller),
        selectinload(OfflineSale.recorded_by),
    )
    if seller_id:
        stmt = stmt.where(OfflineSale.seller_id == seller_id)
    return stmt.order_by(OfflineSale.sold_on.desc(), OfflineSale.id.desc())


@bp.get("/offline-sales")
def offline_sales():
    seller_id = _seller_id_arg()
    stmt = _offline_query(seller_id)
    count = sa.select(sa.func.count(OfflineSale.id))
    if seller_id:
        count = count.where(OfflineSale.seller_id == seller_id)
    page = page_of(stmt, db.session.scalar(count) or 0, page_arg(), OFFLINE_PER_PAGE)
    return render_template(
        "admin/offline_sales.html",
        page=page,
        seller=db.session.get(Seller, seller_id) if seller_id else None,
        currency=current_app.config["MARKET_CURRENCY"],
    )


@bp.get("/offline-sales.csv")
def offline_sales_csv():
    """The offline sales table (of one seller with ``seller_id``), every row."""
    header = [
        "sale_id", "sold_on", "sold_on_jalali", "seller_id", "seller", "registration_code",
        "place", "products", "units", "amount", "took_stock", "recorded_by", "note", "created_at",
    ]  # fmt: skip
    rows = [
        [s.id, s.sold_on.isoformat(), _jalali(s.sold_on), s.seller_id, s.seller.display_name,
         s.seller.registration_code, s.place,
         "; ".join(f"{line.title} × {line.quantity}" for line in s.lines), s.units, s.amount,
         int(s.took_stock), s.recorded_by.name if s.recorded_by else None, s.note,
         s.created_at.isoformat()]
        for s in db.session.scalars(_offline_query(_seller_id_arg()))
    ]  # fmt: skip
    return csv_response(header, rows, "offline_sales.csv")


@bp.post("/offline-sales/<int:sale_id>/delete")
def delete_offline_sale(sale_id: int):
    sale = db.session.get(OfflineSale, sale_id)
    if sale is None:
        abort(404)
    seller_id = sale.seller_id
    sales.delete_offline_sale(sale, current_user.id)
    flash(_("The offline sale was deleted; the reports no longer count it."), "success")
    return redirect(url_for("admin.offline_sales", seller_id=seller_id))

"""Staff pages: counties and the province (funnel against quotas, sales, the programme's three
criteria, monthly charts, CSV exports) and the quotas themselves (form and CSV upload)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.admin.forms import QuotaConfirmForm, QuotaForm, QuotaUploadForm
from app.admin.sales_routes import _jalali, _period_choices
from app.core.db import database_id
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.core.formatting import LocalNumber, format_digits, format_number
from app.program import counties, sales
from app.reference.models import County, Province, Sector
from app.web.http import csv_response


def _locale() -> str:
    return str(get_locale() or "fa")


def _bad_request(message: str) -> Response:
    return Response(
        render_template("error.html", code=400, message=message), status=400, mimetype="text/html"
    )


_PERIOD_ERRORS: dict[str, Callable[[], str]] = {
    "kind": lambda: _("Choose a month, a season, a year, a programme year or custom dates."),
    "year": lambda: _("The year must be a Jalali year from 1300 to 1500."),
    "month": lambda: _("The month must be a number from 1 to 12."),
    "season": lambda: _("The season must be a number from 1 to 4."),
    "dates": lambda: _("For custom dates enter both days, like 1405/09/01 (Jalali) or 2026-11-22."),
    "too_long": lambda: _("A custom period can be at most three years long."),
}


def _period() -> sales.Period:
    """The period asked for; anything malformed is a 400 that says what to fix."""
    try:
        return counties.period_from_args(request.args)
    except ValidationFailed as exc:
        code = exc.errors["period"][0]
        abort(_bad_request(_PERIOD_ERRORS[code]()))


def _sector_id() -> int | None:
    raw = (request.args.get("sector") or "").strip()
    if not raw:
        return None
    value = database_id(raw)
    if value is None or db.session.get(Sector, value) is None:
        abort(_bad_request(_("There is no such sector. Choose one from the list.")))
    return value


def _sectors() -> list[tuple[int, str]]:
    name = Sector.name_en if _locale() == "en" else Sector.name_fa
    return [tuple(r) for r in db.session.execute(sa.select(Sector.id, name).order_by(name))]


def _province_name() -> str:
    provinces = db.session.scalars(sa.select(Province).limit(2)).all()
    return provinces[0].name(_locale()) if len(provinces) == 1 else _("All counties")


def _columns() -> list[tuple[str, str]]:
    """(sort key, heading) of the county table, in order."""
    return [
        ("name", _("County")),
        ("registered", _("Registered applicants")),
        ("approved", _("Approved sellers")),
        ("listed", _("With a listing")),
        ("first_sale", _("With a first sale")),
        ("repeat_sales", _("With repeat sales")),
        ("target_sellers", _("Quota")),
        ("quota_progress", _("Of quota")),
        ("sales_amount", _("Sales volume")),
        ("share", _("Share of province")),
        ("market_connection", _("Market connection")),
        ("orders_per_100_views", _("Orders per 100 views")),
        ("price_ratio", _("Price ÷ market")),
        ("absorption", _("Absorption")),
        ("flagged", _("Falls behind")),
    ]


def _sort() -> str:
    sort = request.args.get("sort", "name")
    return sort if sort.lstrip("-") in counties.SORT_KEYS else "name"


def _period_args(period: sales.Period, sector_id: int | None) -> dict[str, str]:
    args = period.query_args()
    if sector_id:
        args["sector"] = str(sector_id)
    return args


@bp.get("/counties")
def counties_report():
    period = _period()
    sector_id = _sector_id()
    sort = _sort()
    report = counties.county_report(period, sector_id, _locale())
    return render_template(
        "admin/counties.html",
        period=period,
        sector_id=sector_id,
        sort=sort,
        report=report,
        rows=report.sorted_rows(sort),
        columns=_columns(),
        stage_labels=_stage_labels(),
        sectors=_sectors(),
        province_name=_province_name(),
        by_county=counties.monthly(period, "county", sector_id, locale=_locale()),
        by_sector=counties.monthly(period, "sector", sector_id, locale=_locale()),
        args=_period_args(period, sector_id),
        **_period_choices(period),
    )


# ---- CSV exports (UTF-8 with a byte order mark; amounts in rials) --------------------------


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _period_cells(period: sales.Period) -> list[object]:
    return [period.start.isoformat(), period.end.isoformat(), _jalali(period.start),
            _jalali(period.end)]  # fmt: skip


COUNTY_HEADER = [
    "county_id", "county_slug", "county", "registered_applicants", "approved_sellers",
    "sellers_with_listing", "sellers_with_first_sale", "sellers_with_repeat_sales",
    "programme_year", "target_sellers", "quota_progress", "target_sales_amount_rial",
    "programme_year_sales_rial", "sales_progress", "card_amount_rial", "cash_amount_rial",
    "offline_amount_rial", "sales_amount_rial", "share_of_province", "sales", "paid_online_orders",
    "units", "approved_sellers_with_sale", "market_connection", "product_views",
    "orders_per_100_views", "price_ratio", "stock_units", "absorption", "falls_behind",
    "period_start", "period_end", "period_start_jalali", "period_end_jalali",
]  # fmt: skip


def _county_cells(r: counties.CountyRow, year: int, period: sales.Period) -> list[object]:
    return [
        r.county_id, r.slug, r.name, r.registered, r.approved, r.listed, r.first_sale,
        r.repeat_sales, year, r.target_sellers, _ratio(r.quota_progress), r.target_sales_amount,
        r.year_sales_amount, _ratio(r.sales_progress), r.card_amount, r.cash_amount,
        r.offline_amount, r.sales_amount, _ratio(r.share), r.orders, r.online_orders, r.units,
        r.sellers_with_sale, _ratio(r.market_connection), r.views,
        _ratio(r.orders_per_100_views), _ratio(r.price_ratio), r.stock, _ratio(r.absorption),
        int(r.flagged) if r.county_id is not None else "", *_period_cells(period),
    ]  # fmt: skip


def _slug(period: sales.Period, sector_id: int | None) -> str:
    return period.file_slug() + (f"_sector{sector_id}" if sector_id else "")


def _csv_report() -> tuple[sales.Period, counties.CountyReport, str]:
    """The county report the query string asks for (period and sector) with the province named
    as on the page, and the part of its file names that says which period and sector."""
    period = _period()
    sector_id = _sector_id()
    report = counties.county_report(period, sector_id, _locale())
    report.province.name = _province_name()
    return period, report, _slug(period, sector_id)


@bp.get("/counties.csv")
def counties_csv():
    period, report, slug = _csv_report()
    rows = [_county_cells(r, report.programme_year, period) for r in report.sorted_rows(_sort())]
    rows.append(_county_cells(report.province, report.programme_year, period))
    return csv_response(COUNTY_HEADER, rows, f"counties_{slug}.csv")


@bp.get("/counties/funnel.csv")
def counties_funnel_csv():
    """The funnel in long form: one row per county (and the province) and stage."""
    report, slug = _csv_report()[1:]
    header = ["county_id", "county", "stage", "sellers", "programme_year", "target_sellers",
              "share_of_target"]  # fmt: skip
    rows = []
    for r in [*report.rows, report.province]:
        for stage in counties.STAGES:
            n = getattr(r, stage)
            share = n / r.target_sellers if r.target_sellers else None
            rows.append([r.county_id, r.name, stage, n, report.programme_year, r.target_sellers,
                         _ratio(share)])  # fmt: skip
    return csv_response(header, rows, f"funnel_{slug}.csv")


def _series_rows(series: counties.Series) -> list[list[object]]:
    rows = []
    for group_id, name in series.groups:
        for (y, m), cell in zip(series.months, series.row(group_id), strict=True):
            start = sales.jalali_month_start(y, m)
            end = sales.jalali_month_start(y, m + 1) - timedelta(days=1)
            rows.append([group_id, name, y, m, start.isoformat(), end.isoformat(), cell.orders,
                         cell.units, cell.amount])  # fmt: skip
    return rows


@bp.get("/counties/monthly.csv")
def counties_monthly_csv():
    period = _period()
    sector_id = _sector_id()
    by = request.args.get("by", "county")
    if by not in ("county", "sector"):
        abort(_bad_request(_("Monthly series are by county or by sector.")))
    series = counties.monthly(period, by, sector_id, locale=_locale())
    header = [f"{by}_id", by, "jalali_year", "jalali_month", "month_start", "month_end",
              "sales", "units", "sales_amount_rial"]  # fmt: skip
    return csv_response(
        header, _series_rows(series), f"monthly_by_{by}_{_slug(period, sector_id)}.csv"
    )


# ---- one county -----------------------------------------------------------------------------


def _detail(county_id: int) -> tuple[sales.Period, int | None, counties.CountyDetail]:
    period = _period()
    sector_id = _sector_id()
    try:
        detail = counties.county_detail(county_id, period, sector_id, _locale())
    except NotFound:
        abort(404)
    return period, sector_id, detail


@bp.get("/counties/<int:county_id>")
def county_detail(county_id: int):
    period, sector_id, detail = _detail(county_id)
    detail.province.name = _province_name()
    return render_template(
        "admin/county_detail.html",
        period=period,
        sector_id=sector_id,
        detail=detail,
        sectors=_sectors(),
        stage_labels=_stage_labels(),
        args=_period_args(period, sector_id),
        **_period_choices(period),
    )


def _stage_labels() -> dict[str, str]:
    return {
        "registered": _("Registered applicants"),
        "approved": _("Approved sellers"),
        "listed": _("With a listing"),
        "first_sale": _("With a first sale"),
        "repeat_sales": _("With repeat sales"),
    }


@bp.get("/counties/<int:county_id>/sellers.csv")
def county_sellers_csv(county_id: int):
    period, sector_id, detail = _detail(county_id)
    header = ["seller_id", "seller", "registration_code", "status", "sector", "stage",
              "sales_to_date", "first_sale", "first_sale_jalali", "sales_amount_rial", "sales",
              "product_views", *COUNTY_HEADER[-4:]]  # fmt: skip
    rows = [
        [s.seller_id, s.name, s.registration_code, s.status, s.sector, s.stage, s.sales_to_date,
         s.first_sale.isoformat() if s.first_sale else None, _jalali(s.first_sale), s.amount,
         s.orders, s.views, *_period_cells(period)]
        for s in detail.sellers
    ]  # fmt: skip
    name = f"county_{detail.county.slug}_sellers_{_slug(period, sector_id)}.csv"
    return csv_response(header, rows, name)


@bp.get("/counties/<int:county_id>/monthly.csv")
def county_monthly_csv(county_id: int):
    period, sector_id, detail = _detail(county_id)
    series = detail.series
    header = ["jalali_year", "jalali_month", "month_start", "month_end", "sales", "units",
              "sales_amount_rial", "product_views", "paid_online_orders",
              "orders_per_100_views"]  # fmt: skip
    rows = []
    for row in _series_rows(series):
        cell = series.cell(county_id, row[2], row[3])
        rows.append([*row[2:], cell.views, cell.online_orders, _ratio(cell.orders_per_100_views)])
    name = f"county_{detail.county.slug}_monthly_{_slug(period, sector_id)}.csv"
    return csv_response(header, rows, name)


@bp.get("/counties/<int:county_id>/categories.csv")
def county_categories_csv(county_id: int):
    period, sector_id, detail = _detail(county_id)
    header = ["category_id", "category", "units", "sales_amount_rial", *COUNTY_HEADER[-4:]]
    rows = [
        [c["category_id"], c["name"], c["units"], c["amount"], *_period_cells(period)]
        for c in detail.categories
    ]
    name = f"county_{detail.county.slug}_categories_{_slug(period, sector_id)}.csv"
    return csv_response(header, rows, name)


# ---- quotas ---------------------------------------------------------------------------------


def _quota_messages() -> dict[str, str]:
    return {
        "required": _("This field is required."),
        "county_unknown": _("There is no county with this number, slug or name."),
        "county_mismatch": _("The county columns name different counties."),
        "year_range": _(
            "Enter the Jalali year in which the programme year starts, from %(low)s to %(high)s.",
            low=format_digits(counties.MIN_YEAR, _locale()),
            high=format_digits(counties.MAX_YEAR, _locale()),
        ),
        "sellers_range": _(
            "Enter a whole number of businesses from 0 to %(high)s.",
            high=format_number(counties.MAX_TARGET_SELLERS, _locale()),
        ),
        "sales_range": _(
            "Enter a whole amount from 0 to %(high)s rials.",
            high=format_number(counties.MAX_TARGET_SALES, _locale()),
        ),
        "duplicate": _("This county and programme year appear more than once."),
    }


def _file_messages() -> dict[str, str]:
    return {
        "too_large": _(
            "The file is too large: at most %(kb)s KB.",
            kb=format_number(counties.MAX_QUOTA_FILE_BYTES // 1024, _locale()),
        ),  # fmt: skip
        "empty": _("The file is empty."),
        "not_utf8": _(
            "The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8” and try again."
        ),
        "malformed": _("The CSV file is malformed (check the quotation marks)."),
        "no_header": _("The file has no header row."),
        "missing_columns": _(
            "The header must name the county (county_id, county_slug or county) and "
            "programme_year and target_sellers; target_sales_amount_rial is optional."
        ),
        "too_many_rows": _(
            "The file has too many rows: at most %(n)s.",
            n=format_number(counties.MAX_QUOTA_ROWS, _locale()),
        ),  # fmt: skip
        "nothing": _("There is nothing to save. Upload the file again."),
    }


def _field_labels() -> dict[str, str]:
    return {
        "county_id": _("County"),
        "programme_year": _("Programme year"),
        "target_sellers": _("Target: businesses connected to the market"),
        "target_sales_amount": _("Target: sales volume"),
    }


def _county_choices(form: QuotaForm) -> None:
    name = County.name_en if _locale() == "en" else County.name_fa
    form.county_id.choices = [(0, _("Choose…"))] + [
        tuple(r) for r in db.session.execute(sa.select(County.id, name).order_by(name))
    ]


def _quotas_page(
    form: QuotaForm | None = None,
    plan: counties.QuotaPlan | None = None,
    confirm: QuotaConfirmForm | None = None,
    upload: QuotaUploadForm | None = None,
    file_error: str | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    if form is None:
        form = QuotaForm(formdata=None)
        year = counties.number(request.args.get("y"))
        form.programme_year.data = str(
            year if year and year > 0 else sales.jalali_month_of(sales.tehran_today())[0]
        )
    _county_choices(form)
    return (
        render_template(
            "admin/quotas.html",
            form=form,
            upload=upload or QuotaUploadForm(formdata=None),
            plan=plan,
            confirm=confirm,
            file_error=file_error,
            quotas=counties.quotas(None, _locale()),
            messages=_quota_messages(),
            labels=_field_labels(),
            columns=counties.QUOTA_COLUMNS,
        ),
        status,
    )


@bp.route("/quotas", methods=["GET", "POST"])
def quotas():
    if request.method == "GET":
        return _quotas_page()
    form = QuotaForm()
    _county_choices(form)
    if not form.validate_on_submit():
        return _quotas_page(form, status=400)
    toman = counties.number(form.target_sales.data)
    item = counties.QuotaInput(
        county_id=form.county_id.data or None,
        programme_year=counties.number(form.programme_year.data),
        target_sellers=counties.number(form.target_sellers.data),
        target_sales_amount=None if toman is None else toman * 10,
    )
    try:
        changed = counties.save_quotas(current_user.id, [item], source="form")
    except ValidationFailed as exc:
        messages = _quota_messages()
        fields = {"target_sales_amount": form.target_sales}
        for name, codes in exc.errors.items():
            target = fields.get(name) or getattr(form, name)
            target.errors = [*target.errors, *(messages[c] for c in codes)]
        return _quotas_page(form, status=400)
    county = db.session.get(County, item.county_id)
    if changed:
        flash(
            _(
                "The quota of %(county)s for %(year)s was saved.",
                county=county.name(_locale()),
                year=format_digits(item.programme_year, _locale()),
            ),  # fmt: skip
            "success",
        )
    else:
        flash(_("Nothing changed: the quota already had these targets."), "info")
    return redirect(url_for("admin.quotas", y=item.programme_year))


@bp.post("/quotas/upload")
def quotas_upload():
    """Check an uploaded quota file row by row and show it; nothing is saved yet."""
    upload = QuotaUploadForm()
    if not upload.validate_on_submit():
        return _quotas_page(upload=upload, status=400)
    file = upload.file.data
    if not file or not getattr(file, "filename", ""):
        return _quotas_page(upload=upload, file_error=_("Choose a CSV file."), status=400)
    try:
        text = counties.decode_quota_file(file.stream.read(counties.MAX_QUOTA_FILE_BYTES + 1))
        plan = counties.plan_quotas(text, _locale())
    except counties.QuotaFileRejected as exc:
        return _quotas_page(upload=upload, file_error=_file_messages()[exc.code], status=400)
    if not plan.ok:
        return _quotas_page(upload=upload, plan=plan, status=400)
    confirm = QuotaConfirmForm(formdata=None, csv_text=text)
    return _quotas_page(upload=upload, plan=plan, confirm=confirm)


@bp.post("/quotas/upload/confirm")
def quotas_upload_confirm():
    """Save a checked file: checked again (quotas may have changed since), then all or none."""
    confirm = QuotaConfirmForm()
    text = confirm.csv_text.data if confirm.validate_on_submit() else None
    if not text or len(text.encode("utf-8")) > counties.MAX_QUOTA_FILE_BYTES:
        return _quotas_page(file_error=_file_messages()["nothing"], status=400)
    try:
        plan = counties.plan_quotas(text, _locale())
    except counties.QuotaFileRejected as exc:
        return _quotas_page(file_error=_file_messages()[exc.code], status=400)
    if not plan.ok:
        return _quotas_page(plan=plan, status=400)
    try:
        changed = counties.save_quotas(current_user.id, plan.items, source="csv")
    except ValidationFailed:
        return _quotas_page(plan=counties.plan_quotas(text, _locale()), status=400)
    flash(
        ngettext("%(num)s quota changed.", "%(num)s quotas changed.", LocalNumber(changed))
        if changed
        else _("Nothing changed: every quota in the file already had these targets."),
        "success" if changed else "info",
    )
    return redirect(url_for("admin.quotas"))


@bp.post("/quotas/<int:quota_id>/delete")
def delete_quota(quota_id: int):
    try:
        counties.delete_quota(current_user.id, quota_id)
    except NotFound:
        abort(404)
    flash(_("The quota was deleted."), "success")
    return redirect(url_for("admin.quotas"))


@bp.get("/quotas.csv")
def quotas_csv():
    return csv_response(list(counties.QUOTA_COLUMNS), counties.quota_csv_rows(), "quotas.csv")

"""Staff pages: counties and the province (funnel against quotas, sales, the programme's three
criteria, monthly charts, CSV exports) and the quotas themselves (form and CSV upload)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.admin import bp
from app.admin.forms import QuotaConfirmForm, QuotaForm, QuotaUploadForm
from app.admin.report_args import bad_request, page_locale, period_arg, period_choices
from app.core.db import database_id
from app.core.errors import NotFound, ValidationFailed
from app.core.formatting import LocalNumber, format_digits, format_number
from app.program import exports, funnel, monthly
from app.program import quotas as quota_service
from app.program.calendar import Period, jalali_month_of, tehran_today
from app.web.access import staff_scope
from app.web.csv_files import staff_csv
from app.web.http import csv_response


def _sector_id() -> int | None:
    raw = (request.args.get("sector") or "").strip()
    if not raw:
        return None
    value = database_id(raw)
    if value is None or not funnel.sector_exists(value):
        bad_request(_("There is no such sector. Choose one from the list."))
    return value


def _province_name() -> str:
    return funnel.province_name(page_locale()) or _("All counties")


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


def _stage_labels() -> dict[str, str]:
    return {
        "registered": _("Registered applicants"),
        "approved": _("Approved sellers"),
        "listed": _("With a listing"),
        "first_sale": _("With a first sale"),
        "repeat_sales": _("With repeat sales"),
    }


def _sort() -> str:
    sort = request.args.get("sort", "name")
    return sort if sort.lstrip("-") in funnel.SORT_KEYS else "name"


def _period_args(period: Period, sector_id: int | None) -> dict[str, str]:
    args = period.query_args()
    if sector_id:
        args["sector"] = str(sector_id)
    return args


def _report() -> tuple[Period, int | None, funnel.CountyReport]:
    """The county report the query string asks for (period and sector), with the province
    named as the pages name it."""
    period = period_arg()
    sector_id = _sector_id()
    report = funnel.county_report(period, sector_id, page_locale())
    report.province.name = _province_name()
    return period, sector_id, report


@bp.get("/counties")
def counties_report() -> ResponseReturnValue:
    scope = staff_scope()
    if scope.county_id is not None:  # a county officer: their own county's page
        own = url_for("admin.county_detail", county_id=scope.county_id)
        query = request.query_string.decode("ascii", "replace")
        return redirect(f"{own}?{query}" if query else own)
    if not scope.is_province:
        abort(403)  # a support organisation's cohort is not a county
    period, sector_id, report = _report()
    sort = _sort()
    locale = page_locale()
    return render_template(
        "admin/counties.html",
        period=period,
        sector_id=sector_id,
        sort=sort,
        report=report,
        rows=report.sorted_rows(sort),
        columns=_columns(),
        stage_labels=_stage_labels(),
        sectors=funnel.sector_choices(locale),
        province_name=report.province.name,
        by_county=monthly.monthly(period, "county", sector_id, locale=locale),
        by_sector=monthly.monthly(period, "sector", sector_id, locale=locale),
        args=_period_args(period, sector_id),
        **period_choices(period),
    )


# ---- CSV exports (UTF-8 with a byte order mark; amounts in toman; app.web.csv_files) --------


def _sector_tail(sector_id: int | None) -> str:
    """The end of a file's name that says which sector it holds (after the period)."""
    return f"_sector{sector_id}" if sector_id else ""


@bp.get("/counties.csv")
def counties_csv() -> ResponseReturnValue:
    period, sector_id, report = _report()
    header, rows = exports.counties_table(report, _sort())
    return staff_csv(header, rows, "counties", period, _sector_tail(sector_id))


@bp.get("/counties/funnel.csv")
def counties_funnel_csv() -> ResponseReturnValue:
    """The funnel in long form: one row per county (and the province) and stage."""
    period, sector_id, report = _report()
    header, rows = exports.funnel_table(report)
    return staff_csv(header, rows, "funnel", period, _sector_tail(sector_id))


@bp.get("/counties/monthly.csv")
def counties_monthly_csv() -> ResponseReturnValue:
    period = period_arg()
    sector_id = _sector_id()
    by = request.args.get("by", "county")
    if by not in ("county", "sector"):
        bad_request(_("Monthly series are by county or by sector."))
    series = monthly.monthly(period, by, sector_id, locale=page_locale())
    header, rows = exports.monthly_table(series, by)
    return staff_csv(header, rows, f"monthly_by_{by}", period, _sector_tail(sector_id))


# ---- one county -----------------------------------------------------------------------------


def _detail(county_id: int) -> tuple[Period, int | None, funnel.CountyDetail]:
    period = period_arg()
    sector_id = _sector_id()
    try:
        detail = funnel.county_detail(
            county_id, period, sector_id, page_locale(), scope=staff_scope()
        )
    except NotFound:
        abort(404)
    return period, sector_id, detail


@bp.get("/counties/<int:county_id>")
def county_detail(county_id: int) -> ResponseReturnValue:
    period, sector_id, detail = _detail(county_id)
    detail.province.name = _province_name()
    return render_template(
        "admin/county_detail.html",
        period=period,
        sector_id=sector_id,
        detail=detail,
        sectors=funnel.sector_choices(page_locale()),
        stage_labels=_stage_labels(),
        args=_period_args(period, sector_id),
        **period_choices(period),
    )


@bp.get("/counties/<int:county_id>/sellers.csv")
def county_sellers_csv(county_id: int) -> ResponseReturnValue:
    period, sector_id, detail = _detail(county_id)
    header, rows = exports.county_sellers_table(detail, period)
    stem = f"county_{detail.county.slug}_sellers"
    return staff_csv(header, rows, stem, period, _sector_tail(sector_id))


@bp.get("/counties/<int:county_id>/monthly.csv")
def county_monthly_csv(county_id: int) -> ResponseReturnValue:
    period, sector_id, detail = _detail(county_id)
    header, rows = exports.county_months_table(detail)
    stem = f"county_{detail.county.slug}_monthly"
    return staff_csv(header, rows, stem, period, _sector_tail(sector_id))


@bp.get("/counties/<int:county_id>/categories.csv")
def county_categories_csv(county_id: int) -> ResponseReturnValue:
    period, sector_id, detail = _detail(county_id)
    header, rows = exports.county_categories_table(detail, period)
    stem = f"county_{detail.county.slug}_categories"
    return staff_csv(header, rows, stem, period, _sector_tail(sector_id))


# ---- quotas ---------------------------------------------------------------------------------


def _quota_messages() -> dict[str, str]:
    return {
        "required": _("This field is required."),
        "county_unknown": _("There is no county with this number, slug or name."),
        "county_mismatch": _("The county columns name different counties."),
        "year_range": _(
            "Enter the Jalali year in which the programme year starts, from %(low)s to %(high)s.",
            low=format_digits(quota_service.MIN_YEAR, page_locale()),
            high=format_digits(quota_service.MAX_YEAR, page_locale()),
        ),
        "sellers_range": _(
            "Enter a whole number of businesses from 0 to %(high)s.",
            high=format_number(quota_service.MAX_TARGET_SELLERS, page_locale()),
        ),
        "sales_range": _(
            "Enter a whole amount from 0 to %(high)s rials.",
            high=format_number(quota_service.MAX_TARGET_SALES, page_locale()),
        ),
        "duplicate": _("This county and programme year appear more than once."),
    }


def _file_messages() -> dict[str, str]:
    return {
        "too_large": _(
            "The file is too large: at most %(kb)s KB.",
            kb=format_number(quota_service.MAX_QUOTA_FILE_BYTES // 1024, page_locale()),
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
            n=format_number(quota_service.MAX_QUOTA_ROWS, page_locale()),
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
    form.county_id.choices = [(0, _("Choose…")), *quota_service.county_choices(page_locale())]


def _quotas_page(
    form: QuotaForm | None = None,
    plan: quota_service.QuotaPlan | None = None,
    confirm: QuotaConfirmForm | None = None,
    upload: QuotaUploadForm | None = None,
    file_error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    if form is None:
        form = QuotaForm(formdata=None)
        year = quota_service.number(request.args.get("y"))
        form.programme_year.data = str(
            year if year and year > 0 else jalali_month_of(tehran_today())[0]
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
            quotas=quota_service.quotas(None, page_locale()),
            messages=_quota_messages(),
            labels=_field_labels(),
            columns=quota_service.QUOTA_COLUMNS,
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
    item = quota_service.QuotaInput(
        county_id=form.county_id.data or None,
        programme_year=quota_service.number(form.programme_year.data),
        target_sellers=quota_service.number(form.target_sellers.data),
        target_sales_amount=quota_service.money(
            form.target_sales.data, current_app.config["MARKET_CURRENCY"]
        ),
    )
    try:
        changed = quota_service.save_quotas(current_user.id, [item], source="form")
    except ValidationFailed as exc:
        messages = _quota_messages()
        fields = {"target_sales_amount": form.target_sales}
        for name, codes in exc.errors.items():
            target = fields.get(name) or getattr(form, name)
            target.errors = [*target.errors, *(messages[c] for c in codes)]
        return _quotas_page(form, status=400)
    if changed:
        flash(
            _(
                "The quota of %(county)s for %(year)s was saved.",
                county=quota_service.county_name(item.county_id, page_locale()),
                year=format_digits(item.programme_year, page_locale()),
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
        text = quota_service.decode_quota_file(
            file.stream.read(quota_service.MAX_QUOTA_FILE_BYTES + 1)
        )
        plan = quota_service.plan_quotas(text, page_locale())
    except quota_service.QuotaFileRejected as exc:
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
    if not text or len(text.encode("utf-8")) > quota_service.MAX_QUOTA_FILE_BYTES:
        return _quotas_page(file_error=_file_messages()["nothing"], status=400)
    try:
        plan = quota_service.plan_quotas(text, page_locale())
    except quota_service.QuotaFileRejected as exc:
        return _quotas_page(file_error=_file_messages()[exc.code], status=400)
    if not plan.ok:
        return _quotas_page(plan=plan, status=400)
    try:
        changed = quota_service.save_quotas(current_user.id, plan.items, source="csv")
    except ValidationFailed:
        return _quotas_page(plan=quota_service.plan_quotas(text, page_locale()), status=400)
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
        quota_service.delete_quota(current_user.id, quota_id)
    except NotFound:
        abort(404)
    flash(_("The quota was deleted."), "success")
    return redirect(url_for("admin.quotas"))


@bp.get("/quotas.csv")
def quotas_csv():
    return csv_response(
        list(quota_service.QUOTA_COLUMNS), quota_service.quota_csv_rows(), "quotas.csv"
    )

"""Staff pages: the beneficiary's record and loans (edited, audited, imported from the national
portal's CSV export), orders flagged for self-dealing and their decision, and the impact figures
with their CSV and XLSX exports (:mod:`app.program.beneficiaries`, :mod:`app.program.self_dealing`,
:mod:`app.program.impact`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.admin.forms import (
    BeneficiaryForm,
    FlagDecisionForm,
    LoanForm,
    QuotaConfirmForm,
    QuotaUploadForm,
)
from app.admin.report_args import bad_request, page_locale
from app.audit import log as audit
from app.catalog import staff_queries
from app.core.errors import InvalidTransition, NotFound, ValidationFailed
from app.core.formatting import LocalNumber, format_number
from app.program import beneficiaries, impact, self_dealing
from app.program import quotas as quota_service
from app.program.calendar import jalali_iso
from app.program.exports import toman
from app.program.impact_models import FlagStatus, Loan
from app.web.access import staff_scope
from app.web.csv_files import file_name
from app.web.http import csv_response, page_arg
from app.web.i18n import locale_code
from app.web.impact_labels import IMPACT_COLUMNS, LABELS, choices, label
from app.web.xlsx import xlsx_response


def _errors() -> dict[str, str]:
    return {
        "required": _("This field is required."),
        "too_long": _("That is too long."),
        "unknown_choice": _("Choose one of the listed values."),
        "taken": _("Another seller already has this registration code."),
        "seller_unknown": _("No seller has this registration code."),
        "loan_range": _("Enter an amount above zero."),
        "bad_date": _("Enter a day like 1403/05/20 (Jalali) or 2024-08-10."),
    }


def _apply(form: Any, exc: ValidationFailed, fields: dict[str, Any] | None = None) -> None:
    messages = _errors()
    for name, codes in exc.errors.items():
        target = (fields or {}).get(name) or getattr(form, name)
        target.errors = [*target.errors, *(messages.get(c, c) for c in codes)]


# ---- the record -------------------------------------------------------------------------------


def _seller_or_404(seller_id: int) -> Any:
    seller = staff_queries.seller_for_review(seller_id)
    if seller is None:
        abort(404)
    return seller


def _record_choices(form: BeneficiaryForm) -> None:
    form.gender.choices = choices("gender")
    form.age_band.choices = choices("age_band")
    form.locality.choices = choices("locality")
    form.income_band.choices = choices("income_band")


def _loan_choices(form: LoanForm) -> None:
    form.purpose.choices = choices("purpose")[1:]
    form.repayment.choices = choices("repayment")[1:]


def _beneficiary_page(
    seller: Any, form: BeneficiaryForm, loan_form: LoanForm, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "admin/beneficiary.html",
            seller=seller,
            record=beneficiaries.record_of(seller.id),
            loans=beneficiaries.loans_of(seller.id),
            form=form,
            loan_form=loan_form,
            figures=impact.seller_impact(seller.id, page_locale()),
            history=[
                e
                for e in audit.for_target("seller", seller.id)
                if e.action.startswith(("beneficiary.", "loan."))
            ][:20],
            label=label,
        ),
        status,
    )


@bp.route("/sellers/<int:seller_id>/beneficiary", methods=["GET", "POST"])
def beneficiary(seller_id: int) -> ResponseReturnValue:
    seller = _seller_or_404(seller_id)
    record = beneficiaries.record_of(seller.id)
    loan_form = LoanForm(formdata=None)
    _loan_choices(loan_form)
    if request.method == "GET":
        form = BeneficiaryForm(formdata=None)
        form.registration_code.data = seller.registration_code
        form.training_provider.data = seller.training_provider
        for name in beneficiaries.RECORD_FIELDS:
            value = getattr(record, name) if record is not None else None
            getattr(form, name).data = getattr(value, "value", value) or ""
        _record_choices(form)
        return _beneficiary_page(seller, form, loan_form)
    form = BeneficiaryForm()
    _record_choices(form)
    if not form.validate_on_submit():
        return _beneficiary_page(seller, form, loan_form, 400)
    item = beneficiaries.RecordInput(
        **{
            name: getattr(form, name).data or ""
            for name in (*beneficiaries.SELLER_FIELDS, *beneficiaries.RECORD_FIELDS)
        }
    )
    try:
        changes = beneficiaries.save_record(current_user.id, seller.id, item)
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        _apply(form, exc)
        return _beneficiary_page(seller, form, loan_form, 400)
    flash(
        _("The beneficiary's record was saved.") if changes else _("Nothing changed."),
        "success" if changes else "info",
    )
    return redirect(url_for("admin.beneficiary", seller_id=seller.id))


def _loan_item(form: LoanForm) -> beneficiaries.LoanInput:
    return beneficiaries.loan_input(
        quota_service.money(form.amount.data, current_app.config["MARKET_CURRENCY"]),
        form.granted_on.data or "",
        form.bank.data or "",
        form.purpose.data or "",
        form.repayment.data or "",
    )


@bp.post("/sellers/<int:seller_id>/loans")
def beneficiary_loan_add(seller_id: int) -> ResponseReturnValue:
    seller = _seller_or_404(seller_id)
    loan_form = LoanForm()
    _loan_choices(loan_form)
    if loan_form.validate_on_submit():
        try:
            beneficiaries.add_loan(current_user.id, seller.id, _loan_item(loan_form))
        except NotFound:
            abort(404)
        except ValidationFailed as exc:
            _apply(loan_form, exc, {"granted_on": loan_form.granted_on})
        else:
            flash(_("The loan was recorded."), "success")
            return redirect(url_for("admin.beneficiary", seller_id=seller.id))
    form = BeneficiaryForm(formdata=None)
    _record_choices(form)
    return _beneficiary_page(seller, form, loan_form, 400)


def _loan_or_404(loan_id: int) -> Loan:
    loan = beneficiaries.get_loan(loan_id)
    if loan is None:
        abort(404)
    return loan


@bp.route("/loans/<int:loan_id>", methods=["GET", "POST"])
def loan_edit(loan_id: int) -> ResponseReturnValue:
    loan = _loan_or_404(loan_id)
    seller = _seller_or_404(loan.seller_id)
    if request.method == "GET":
        form = LoanForm(formdata=None)
        form.amount.data = format_number(loan.amount // 10, "en").replace(",", "")
        form.granted_on.data = jalali_iso(loan.granted_on).replace("-", "/")
        form.bank.data = loan.bank
        form.purpose.data = str(loan.purpose)
        form.repayment.data = str(loan.repayment)
    else:
        form = LoanForm()
    _loan_choices(form)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                changed = beneficiaries.update_loan(current_user.id, loan.id, _loan_item(form))
            except NotFound:
                abort(404)
            except ValidationFailed as exc:
                _apply(form, exc)
            else:
                flash(
                    _("The loan was saved.") if changed else _("Nothing changed."),
                    "success" if changed else "info",
                )
                return redirect(url_for("admin.beneficiary", seller_id=seller.id))
    return render_template("admin/loan_form.html", form=form, loan=loan, seller=seller), status


@bp.route("/loans/<int:loan_id>/delete", methods=["GET", "POST"])
def loan_delete(loan_id: int) -> ResponseReturnValue:
    """A page that asks first; the loan goes only with the POST of its button."""
    loan = _loan_or_404(loan_id)
    seller = _seller_or_404(loan.seller_id)
    form = FlagDecisionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            beneficiaries.delete_loan(current_user.id, loan.id)
        except NotFound:
            abort(404)
        flash(_("The loan was removed."), "success")
        return redirect(url_for("admin.beneficiary", seller_id=seller.id))
    return render_template(
        "admin/loan_delete.html", loan=loan, seller=seller, form=form, label=label
    )


# ---- the national portal's export -------------------------------------------------------------


def _file_messages() -> dict[str, str]:
    return {
        "too_large": _(
            "The file is too large: at most %(kb)s KB.",
            kb=format_number(quota_service.MAX_QUOTA_FILE_BYTES // 1024, page_locale()),
        ),
        "empty": _("The file is empty."),
        "not_utf8": _(
            "The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8” and try again."
        ),
        "malformed": _("The CSV file is malformed (check the quotation marks)."),
        "no_header": _("The file has no header row."),
        "missing_columns": _("The header must name the registration_code column."),
        "too_many_rows": _(
            "The file has too many rows: at most %(n)s.",
            n=format_number(beneficiaries.MAX_IMPORT_ROWS, page_locale()),
        ),
        "nothing": _("There is nothing to save. Upload the file again."),
    }


def _import_page(
    upload: QuotaUploadForm | None = None,
    plan: beneficiaries.ImportPlan | None = None,
    confirm: QuotaConfirmForm | None = None,
    file_error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    return (
        render_template(
            "admin/beneficiary_import.html",
            upload=upload or QuotaUploadForm(formdata=None),
            plan=plan,
            confirm=confirm,
            file_error=file_error,
            messages=_errors(),
            columns=beneficiaries.IMPORT_COLUMNS,
            label=label,
        ),
        status,
    )


@bp.route("/beneficiaries/import", methods=["GET", "POST"])
def beneficiary_import() -> ResponseReturnValue:
    """Check an uploaded export row by row and show it; nothing is saved yet."""
    if request.method == "GET":
        return _import_page()
    upload = QuotaUploadForm()
    if not upload.validate_on_submit():
        return _import_page(upload=upload, status=400)
    file = upload.file.data
    if not file or not getattr(file, "filename", ""):
        return _import_page(upload=upload, file_error=_("Choose a CSV file."), status=400)
    try:
        text = quota_service.decode_quota_file(
            file.stream.read(quota_service.MAX_QUOTA_FILE_BYTES + 1)
        )
        plan = beneficiaries.plan_import(text)
    except quota_service.QuotaFileRejected as exc:
        return _import_page(upload=upload, file_error=_file_messages()[exc.code], status=400)
    if not plan.ok:
        return _import_page(upload=upload, plan=plan, status=400)
    return _import_page(
        upload=upload, plan=plan, confirm=QuotaConfirmForm(formdata=None, csv_text=text)
    )


@bp.post("/beneficiaries/import/confirm")
def beneficiary_import_confirm() -> ResponseReturnValue:
    """Save a checked file: checked again, then all or none."""
    confirm = QuotaConfirmForm()
    text = confirm.csv_text.data if confirm.validate_on_submit() else None
    if not text or len(text.encode("utf-8")) > quota_service.MAX_QUOTA_FILE_BYTES:
        return _import_page(file_error=_file_messages()["nothing"], status=400)
    try:
        plan = beneficiaries.plan_import(text)
    except quota_service.QuotaFileRejected as exc:
        return _import_page(file_error=_file_messages()[exc.code], status=400)
    if not plan.ok:
        return _import_page(plan=plan, status=400)
    try:
        records, loans = beneficiaries.save_import(current_user.id, plan)
    except (NotFound, ValidationFailed):
        return _import_page(plan=beneficiaries.plan_import(text), status=400)
    flash(
        _(
            "Saved: %(records)s records changed, %(loans)s loans added.",
            records=LocalNumber(records),
            loans=LocalNumber(loans),
        ),
        "success",
    )
    return redirect(url_for("admin.beneficiary_import"))


# ---- self-dealing -----------------------------------------------------------------------------


def _flag_status_arg() -> FlagStatus | None:
    raw = request.args.get("status", FlagStatus.PENDING.value)
    if raw == "all":
        return None
    if raw not in {s.value for s in FlagStatus}:
        bad_request(_("Choose a status from the list."))
    return FlagStatus(raw)


@bp.get("/self-dealing")
def self_dealing_flags() -> ResponseReturnValue:
    status = _flag_status_arg()
    return render_template(
        "admin/self_dealing.html",
        page=self_dealing.flags(status, page_arg(), current_app.config["PAGE_SIZE"]),
        status=status.value if status else "all",
        counts=self_dealing.status_counts(),
        form=FlagDecisionForm(formdata=None),
        label=label,
    )


@bp.post("/self-dealing/<int:order_id>")
def self_dealing_decide(order_id: int) -> ResponseReturnValue:
    form = FlagDecisionForm()
    if not form.validate_on_submit():
        flash(_("The note is too long."), "error")
        return redirect(url_for("admin.self_dealing_flags"))
    status = {"clear": FlagStatus.CLEARED, "confirm": FlagStatus.CONFIRMED}.get(
        form.action.data or ""
    )
    if status is None:
        abort(400)
    try:
        self_dealing.decide(current_user.id, order_id, status, form.note.data or "")
    except NotFound:
        abort(404)
    except (ValidationFailed, InvalidTransition):
        flash(_("The note is too long."), "error")
    else:
        flash(
            _(
                "Order %(id)s: %(status)s.",
                id=LocalNumber(order_id),
                status=label("flag_status", status),
            ),
            "success",
        )
    return redirect(url_for("admin.self_dealing_flags"))


# ---- impact -----------------------------------------------------------------------------------


def _by_arg() -> str:
    by = request.args.get("by", "county")
    if by not in impact.GROUPINGS:
        bad_request(_("Group by county, cohort, sector or loan purpose."))
    return by


def _group_names() -> dict[str, str]:
    return {"": _("None recorded"), **{k: str(v) for k, v in LABELS["purpose"].items()}}


def _fixed(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


GROUP_KEYS = ["group", "sellers", "with_sale", "months_to_first_sale", "sales_toman",
              "sales_per_month_toman", "repeat_share", "loan_toman", "sales_per_loan_toman",
              "income_ratio", "left_out"]  # fmt: skip
SELLER_KEYS = ["seller_id", "seller", "registration_code", "county", "sector", "cohort",
               "purposes", "income_band", "approved_on", "first_sale", "months_to_first_sale",
               "sales_toman", "sales_per_month_toman", "orders", "buyers", "repeat_buyers",
               "repeat_share", "loan_toman", "sales_per_loan_toman", "income_ratio",
               "left_out"]  # fmt: skip


def _group_rows(rows: Iterable[impact.GroupImpact]) -> list[list[object]]:
    return [
        [g.name, g.sellers, g.with_sale, _fixed(g.months_to_first_sale, 1), toman(g.sales),
         _fixed(None if g.sales_per_month is None else g.sales_per_month / 10, 0),
         _fixed(g.repeat_share, 3), toman(g.loan_total), _fixed(g.sales_per_loan, 3),
         _fixed(g.income_ratio, 3), g.left_out]
        for g in rows
    ]  # fmt: skip


def _day(day: Any) -> str:
    if day is None:
        return ""
    return jalali_iso(day) if locale_code() == "fa" else day.isoformat()


def _seller_rows(rows: Iterable[impact.SellerImpact]) -> list[list[object]]:
    return [
        [s.seller_id, s.name, s.registration_code, s.county, s.sector, s.cohort,
         "، ".join(label("purpose", p) for p in s.purposes), label("income_band", s.income_band),
         _day(s.approved_on), _day(s.first_sale), _fixed(s.months_to_first_sale, 1),
         toman(s.sales), _fixed(s.sales_per_month / 10, 0), s.orders, s.buyers, s.repeat_buyers,
         _fixed(s.repeat_share, 3), toman(s.loan_total), _fixed(s.sales_per_loan, 3),
         _fixed(s.income_ratio, 3), s.left_out]
        for s in rows
    ]  # fmt: skip


def _headings(keys: list[str]) -> list[str]:
    if locale_code() != "fa":
        return list(keys)
    return [str(IMPACT_COLUMNS.get(k, k)) for k in keys]


@bp.get("/impact")
def impact_report() -> ResponseReturnValue:
    by = _by_arg()
    locale = page_locale()
    sellers = impact.seller_impacts(locale, scope=staff_scope())
    groups = impact.groups(sellers, by, _group_names())
    per_page = 50
    page = max(1, min(page_arg(), max(1, -(-len(sellers) // per_page))))
    ranked = sorted(sellers, key=lambda s: (-s.sales_per_month, s.seller_id))
    return render_template(
        "admin/impact.html",
        by=by,
        groups=groups,
        whole=impact.totals(sellers, _("All counties")),
        sellers=ranked[(page - 1) * per_page : page * per_page],
        seller_count=len(sellers),
        page=page,
        pages=max(1, -(-len(sellers) // per_page)),
        label=label,
        month_days=impact.MONTH_DAYS,
    )


@bp.get("/impact.csv")
def impact_csv() -> ResponseReturnValue:
    """One table: the groups (``by``) or every seller (``by=seller``)."""
    locale = page_locale()
    sellers = impact.seller_impacts(locale, scope=staff_scope())
    if request.args.get("by") == "seller":
        header, rows, stem = SELLER_KEYS, _seller_rows(sellers), "impact_sellers"
    else:
        by = _by_arg()
        header = GROUP_KEYS
        rows = _group_rows(impact.groups(sellers, by, _group_names()))
        stem = f"impact_by_{by}"
    return csv_response(_headings(header), rows, file_name(stem))


@bp.get("/impact.xlsx")
def impact_xlsx() -> ResponseReturnValue:
    """The funders' workbook: every seller, then one sheet per grouping."""
    locale = page_locale()
    sellers = impact.seller_impacts(locale, scope=staff_scope())
    names = _group_names()
    titles = {"county": _("By county"), "cohort": _("By cohort"), "sector": _("By sector"),
              "purpose": _("By loan purpose")}  # fmt: skip
    sheets: list[tuple[str, list[str], Iterable[Iterable[object]]]] = [
        (_("Beneficiaries"), _headings(SELLER_KEYS), _seller_rows(sellers))
    ]
    for by in impact.GROUPINGS:
        rows = _group_rows(impact.groups(sellers, by, names))
        sheets.append((titles[by], _headings(GROUP_KEYS), rows))
    return xlsx_response(sheets, file_name("impact")[:-4] + ".xlsx", rtl=locale == "fa")

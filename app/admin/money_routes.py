"""Staff pages for the market's money: commission rates per category, sellers' balances and
statements, settlement batches."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.catalog import commission
from app.catalog.models import Category
from app.core.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from app.core.formatting import format_digits, persian_digits
from app.core.inputs import parse_date
from app.payouts import settlements
from app.payouts.models import SettlementBatch
from app.web.http import csv_response, page_arg
from app.web.messages import entry_label, error_text, skip_label, status_label

CATEGORIES_PER_PAGE = 50


def _locale() -> str:
    return str(get_locale() or "fa")


def percent_text(bp: int | None) -> str:
    """Basis points as the percentage people type ("7.5"), in the page's digits."""
    if bp is None:
        return ""
    text = f"{bp // 100}" + (f".{bp % 100:02d}".rstrip("0") if bp % 100 else "")
    if _locale() == "fa":
        return persian_digits(text).replace(".", "\u066b")
    return text


bp.add_app_template_global(percent_text, "percent_text")
bp.add_app_template_global(entry_label, "entry_label")
bp.add_app_template_global(skip_label, "skip_label")


def _render_commission(errors: dict[int, str] | None = None, typed: dict[int, str] | None = None,
                       status: int = 200) -> ResponseReturnValue:  # fmt: skip
    page = commission.categories_page(page_arg(), CATEGORIES_PER_PAGE)
    return (
        render_template(
            "admin/commission.html",
            page=page,
            default_bp=int(current_app.config["COMMISSION_RATE_BP"]),
            errors=errors or {},
            typed=typed or {},
        ),
        status,
    )


@bp.get("/commission")
def commission_rates() -> ResponseReturnValue:
    return _render_commission()


@bp.post("/commission/<int:category_id>")
def set_commission_rate(category_id: int) -> ResponseReturnValue:
    text = (request.form.get("rate") or "")[:20]
    try:
        category: Category = commission.set_rate(category_id, text, current_user.id)
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        code = exc.errors.get("rate", ["invalid"])[0]
        return _render_commission({category_id: error_text(code)}, {category_id: text}, 400)
    flash(_("Commission of %(category)s saved.", category=category.name(_locale())), "success")
    return redirect(url_for("admin.commission_rates", page=page_arg()))


# ---- balances and settlement batches ------------------------------------------------------------

BALANCES_PER_PAGE = 50
BATCHES_PER_PAGE = 20


@bp.get("/balances")
def seller_balances() -> ResponseReturnValue:
    page = settlements.seller_balances(page_arg(), BALANCES_PER_PAGE)
    return render_template("admin/balances.html", page=page)


def _render_batches(
    day_text: str = "", error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "admin/settlements.html",
            page=settlements.batches_page(page_arg(), BATCHES_PER_PAGE),
            open_batch=settlements.open_batch(),
            day_text=day_text,
            error=error,
        ),
        status,
    )


@bp.get("/settlements")
def settlement_batches() -> ResponseReturnValue:
    return _render_batches()


@bp.post("/settlements")
def create_settlement() -> ResponseReturnValue:
    day_text = (request.form.get("day") or "").strip()[:20]
    try:
        day = parse_date(day_text)
    except ValueError:
        return _render_batches(day_text, error_text("date_invalid"), 400)
    try:
        made = settlements.create_batch(day, current_user.id)
    except ValidationFailed as exc:
        return _render_batches(day_text, error_text(exc.errors["day"][0]), 400)
    except NotAllowed:
        return _render_batches(day_text, error_text("batch_open"), 409)
    flash(
        _(
            "Settlement batch %(reference)s is ready for review.",
            reference=format_digits(made.reference, _locale()),
        ),
        "success",
    )
    return redirect(url_for("admin.settlement_detail", batch_id=made.id))


def _batch_or_404(batch_id: int) -> SettlementBatch:
    try:
        return settlements.batch(batch_id)
    except NotFound:
        abort(404)


@bp.get("/settlements/<int:batch_id>")
def settlement_detail(batch_id: int) -> ResponseReturnValue:
    b = _batch_or_404(batch_id)
    paid = settlements.included(b)
    return render_template(
        "admin/settlement_detail.html",
        batch=b,
        paid=paid,
        skipped=[line for line in b.lines if line.skip_reason is not None],
        total=sum(line.amount for line in paid),
    )


@bp.get("/settlements/<int:batch_id>/transfers.csv")
def settlement_csv(batch_id: int) -> ResponseReturnValue:
    b = _batch_or_404(batch_id)
    return csv_response(
        settlements.CSV_HEADER, settlements.transfer_rows(b), f"settlement-{b.reference}.csv"
    )


def _close_batch(batch: SettlementBatch, close: Callable[[int, int], object], done: str) -> bool:
    """``close`` the open batch (mark it paid, or discard it) and flash ``done`` (a message with
    ``%(reference)s``); False, with the reason flashed, when it was no longer open."""
    try:
        close(batch.id, current_user.id)
    except InvalidTransition:
        flash(
            _(
                "This batch is no longer open (status: %(status)s).",
                status=status_label(batch.status),
            ),
            "error",
        )
        return False
    flash(done % {"reference": format_digits(batch.reference, _locale())}, "success")
    return True


@bp.post("/settlements/<int:batch_id>/paid")
def settlement_paid(batch_id: int) -> ResponseReturnValue:
    b = _batch_or_404(batch_id)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm that the bank made every transfer of the file."), "error")
    else:
        _close_batch(b, settlements.mark_paid, _("Settlement batch %(reference)s is marked paid."))
    return redirect(url_for("admin.settlement_detail", batch_id=batch_id))


@bp.post("/settlements/<int:batch_id>/discard")
def settlement_discard(batch_id: int) -> ResponseReturnValue:
    b = _batch_or_404(batch_id)
    _close_batch(b, settlements.discard, _("Settlement batch %(reference)s is discarded."))
    return redirect(url_for("admin.settlement_batches"))

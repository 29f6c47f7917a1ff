"""Staff area: problems customers reported on orders, and the market's decision on each."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.admin import bp
from app.core.errors import NotAllowed, ValidationFailed
from app.disputes import services as disputes
from app.disputes.models import ProblemStatus, Resolution
from app.payments import lookups as payment_lookups
from app.web.access import staff_scope
from app.web.forms import LocalMoneyField
from app.web.http import page_arg
from app.web.messages import apply_errors

RESOLUTION_LABELS = {
    Resolution.REFUND: _l("Refund online, to the card that paid"),
    Resolution.CASH_REFUND: _l("Record a refund the seller made in cash"),
    Resolution.CLOSED: _l("Close without a refund"),
}


class DecisionForm(FlaskForm):
    resolution = RadioField(
        _l("Decision"),
        choices=[SelectChoice(r.value, label) for r, label in RESOLUTION_LABELS.items()],
        validators=[InputRequired(message=_l("Choose a decision."))],
    )
    amount = LocalMoneyField(
        _l("Amount to refund (toman)"),
        validators=[Optional()],
        description=_l("The whole order or a part of it."),
    )
    note = TextAreaField(
        _l("Why (the customer and the seller see it)"),
        validators=[InputRequired(), Length(max=2000)],
    )


class RetryForm(FlaskForm):
    pass


def _status_arg() -> ProblemStatus | None:
    try:
        return ProblemStatus(request.args.get("status", ""))
    except ValueError:
        return None


@bp.get("/problems")
def problems() -> ResponseReturnValue:
    status = _status_arg()
    scope = staff_scope()
    page = disputes.staff_page(disputes.StaffFilters(status=status, page=page_arg(), scope=scope))
    counts = disputes.counts_by_status(scope)
    return render_template(
        "admin/problems.html",
        page=page,
        status=status,
        statuses=list(ProblemStatus),
        counts=counts,
        waiting=counts.get(ProblemStatus.ESCALATED, 0) + counts.get(ProblemStatus.REFUNDING, 0),
    )


def _render_problem(problem_id: int, form: DecisionForm, code: int = 200) -> ResponseReturnValue:
    problem = disputes.load(problem_id, staff_scope())
    if problem is None:
        abort(404)
    if not form.is_submitted() and problem.order is not None:
        form.amount.data = disputes.refundable_amount(problem.order)
    return (
        render_template(
            "admin/problem_detail.html",
            problem=problem,
            order=problem.order,
            payment=payment_lookups.payment(problem.order.payment_id),
            is_cash=disputes.is_cash(problem.order),
            form=form,
            retry=RetryForm(),
            can_decide=staff_scope().is_province,
        ),
        code,
    )


@bp.get("/problems/<int:problem_id>")
def problem_detail(problem_id: int) -> ResponseReturnValue:
    return _render_problem(problem_id, DecisionForm())


@bp.post("/problems/<int:problem_id>/decide")
def decide_problem(problem_id: int) -> ResponseReturnValue:
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_problem(problem_id, form, 400)
    resolution = form.resolution.data or ""
    amount = form.amount.data if resolution != Resolution.CLOSED else None
    try:
        disputes.decide(
            problem_id, current_user._get_current_object(), resolution, amount, form.note.data or ""
        )
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _render_problem(problem_id, form, 400)
    except disputes.ProblemClosed:
        flash(_("This problem was already decided."), "error")
    except disputes.RefundFailed:
        flash(
            _(
                "The payment service did not make the refund now. The decision is kept; "
                "try the refund again from this page."
            ),
            "error",
        )
    except NotAllowed:
        abort(404)
    else:
        flash(_("The decision is recorded and the customer and the seller are told."), "success")
    return redirect(url_for("admin.problem_detail", problem_id=problem_id), code=303)


@bp.post("/problems/<int:problem_id>/retry")
def retry_problem_refund(problem_id: int) -> ResponseReturnValue:
    if not RetryForm().validate_on_submit():
        abort(400)
    try:
        disputes.retry_refund(problem_id, current_user._get_current_object())
    except disputes.RefundFailed:
        flash(_("The payment service did not make the refund now. Try again later."), "error")
    except NotAllowed:
        abort(404)
    else:
        flash(_("The refund is recorded."), "success")
    return redirect(url_for("admin.problem_detail", problem_id=problem_id), code=303)

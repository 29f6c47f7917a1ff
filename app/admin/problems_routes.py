"""Staff decide the problems customers report on shipped orders."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.core.errors import InvalidTransition, ValidationFailed
from app.core.formatting import format_digits
from app.core.inputs import parse_money
from app.orders import problems as order_problems
from app.orders.models import ProblemReport
from app.payments import lookups as payment_lookups
from app.payments import problems as decisions
from app.web.http import page_arg
from app.web.messages import error_text, problem_kind_label, status_label

PROBLEMS_PER_PAGE = 25


def _number(problem_id: int) -> str:
    return format_digits(problem_id, str(get_locale() or "fa"))


@bp.get("/problems")
def problems() -> ResponseReturnValue:
    open_only = request.args.get("all") != "1"
    page = order_problems.problems_page(open_only, page_arg(), PROBLEMS_PER_PAGE)
    return render_template(
        "admin/problems.html", page=page, open_only=open_only, kind_label=problem_kind_label
    )


def _problem_or_404(problem_id: int) -> ProblemReport:
    found = order_problems.problem(problem_id)
    if found is None:
        abort(404)
    return found


def _render_problem(problem: ProblemReport, errors: dict[str, str] | None = None,
                    status: int = 200) -> ResponseReturnValue:  # fmt: skip
    order = problem.order
    return (
        render_template(
            "admin/problem_detail.html",
            problem=problem,
            order=order,
            payment=payment_lookups.payment(order.payment_id),
            card=decisions.is_card(problem),
            left=order.total_amount - order.refunded_amount,
            errors=errors or {},
            typed=request.form,
            kind_label=problem_kind_label,
            status_label=status_label,
        ),
        status,
    )


@bp.get("/problems/<int:problem_id>")
def problem_detail(problem_id: int) -> ResponseReturnValue:
    return _render_problem(_problem_or_404(problem_id))


@bp.post("/problems/<int:problem_id>/refund")
def refund_problem(problem_id: int) -> ResponseReturnValue:
    problem = _problem_or_404(problem_id)
    try:
        amount = parse_money(
            (request.form.get("amount") or "")[:30], current_app.config["MARKET_CURRENCY"]
        )
    except ValueError:
        return _render_problem(problem, {"amount": error_text("invalid")}, 400)
    try:
        decisions.decide_refund(problem.id, current_user.id, amount, request.form.get("note"))
    except ValidationFailed as exc:
        code = exc.errors.get("amount", ["invalid"])[0]
        return _render_problem(problem, {"amount": error_text(code)}, 400)
    except decisions.CardRefundUnavailable:
        message = _(
            "Card refunds through the payment provider are not available yet: nothing was changed."
        )
        return _render_problem(problem, {"amount": message}, 409)
    except InvalidTransition:
        flash(_("Problem %(number)s was already decided.", number=_number(problem_id)), "error")
    else:
        flash(
            _("Problem %(number)s: the refund is recorded.", number=_number(problem_id)), "success"
        )
    return redirect(url_for("admin.problem_detail", problem_id=problem_id))


@bp.post("/problems/<int:problem_id>/close")
def close_problem(problem_id: int) -> ResponseReturnValue:
    problem = _problem_or_404(problem_id)
    try:
        decisions.decide_close(problem.id, current_user.id, request.form.get("note"))
    except InvalidTransition:
        flash(_("Problem %(number)s was already decided.", number=_number(problem_id)), "error")
    else:
        flash(
            _("Problem %(number)s is closed without a refund.", number=_number(problem_id)),
            "success",
        )
    return redirect(url_for("admin.problem_detail", problem_id=problem_id))

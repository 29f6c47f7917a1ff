"""A seller's side of a problem a customer reported: answer it, or ask the market to decide."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.core.errors import NotAllowed, ValidationFailed
from app.disputes import services as disputes
from app.disputes.models import OrderProblem
from app.orders.models import Order
from app.sellers import bp
from app.sellers.routes import current_seller
from app.web.access import owned_or_404
from app.web.messages import error_text


def _problem(order_id: int) -> OrderProblem:
    order = owned_or_404(Order, order_id, seller_id=current_seller().id)
    problem = disputes.problem_of(order.id)
    if problem is None:
        abort(404)
    return problem


@bp.post("/orders/<int:order_id>/problem/answer")
def answer_problem(order_id: int) -> ResponseReturnValue:
    problem = _problem(order_id)
    try:
        disputes.answer(
            problem.id,
            current_seller(),
            current_user._get_current_object(),
            request.form.get("reply", ""),
        )
    except ValidationFailed as exc:
        for codes in exc.errors.values():
            for code in codes:
                flash(error_text(code), "error")
    except disputes.ProblemClosed:
        flash(_("This problem was already answered or decided."), "error")
    except NotAllowed:
        abort(404)
    else:
        flash(_("Your answer was sent to the customer."), "success")
    return redirect(url_for("sellers.order_detail", order_id=order_id), code=303)


@bp.post("/orders/<int:order_id>/problem/escalate")
def escalate_problem(order_id: int) -> ResponseReturnValue:
    problem = _problem(order_id)
    try:
        disputes.escalate(problem.id, current_user._get_current_object(), seller=current_seller())
    except disputes.ProblemClosed:
        flash(_("The market cannot be asked to decide this problem now."), "error")
    except NotAllowed:
        abort(404)
    else:
        flash(_("The market's staff will look at the problem and decide."), "success")
    return redirect(url_for("sellers.order_detail", order_id=order_id), code=303)

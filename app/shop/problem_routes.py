"""A customer's problem with an order: report it (with photos), ask the market to decide, or
withdraw it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from app.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.disputes import services as disputes
from app.disputes.models import OrderProblem, ProblemKind
from app.orders import lookups as order_lookups
from app.orders.models import Order
from app.shop import bp
from app.web.messages import apply_errors

KIND_LABELS = {
    ProblemKind.NOT_RECEIVED: _l("I did not receive it"),
    ProblemKind.DAMAGED: _l("It arrived damaged"),
    ProblemKind.NOT_AS_DESCRIBED: _l("It is not as described"),
}


class ProblemForm(FlaskForm):
    kind = RadioField(
        _l("What went wrong?"),
        choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        validators=[InputRequired(message=_l("Choose what went wrong."))],
    )
    description = TextAreaField(
        _l("Describe the problem"),
        validators=[
            InputRequired(),
            Length(
                min=disputes.DESCRIPTION_MIN,
                max=disputes.DESCRIPTION_MAX,
                message=_l("Describe the problem in 10 to 2,000 letters."),
            ),
        ],
    )
    photos = MultipleFileField(_l("Photos (up to 4; JPEG, PNG or WebP)"))


class ProblemActionForm(FlaskForm):
    pass


def _own_order(order_id: int) -> Order:
    order = order_lookups.customer_order(order_id, current_user.id)
    if order is None:
        abort(404)
    return order


def _own_problem(order_id: int) -> OrderProblem:
    problem = disputes.problem_of(_own_order(order_id).id)
    if problem is None:
        abort(404)
    return problem


def _uploads(form: ProblemForm) -> list:
    return [f for f in (form.photos.data or []) if getattr(f, "filename", "")]


@bp.route("/orders/<int:order_id>/problem", methods=["GET", "POST"])
@login_required
def report_problem(order_id: int) -> ResponseReturnValue:
    order = _own_order(order_id)
    target = url_for("shop.order_detail", order_id=order_id)
    if not disputes.may_report(order):
        flash(_("A problem can no longer be reported on this order."), "error")
        return redirect(target)
    form = ProblemForm()
    status = 200
    if form.validate_on_submit():
        try:
            disputes.report(
                order.id,
                current_user._get_current_object(),
                form.kind.data or "",
                form.description.data or "",
                [f.stream for f in _uploads(form)],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except InvalidTransition:
            flash(_("A problem can no longer be reported on this order."), "error")
            return redirect(target)
        except NotAllowed:
            abort(404)
        else:
            flash(_("Your report was sent to the seller."), "success")
            return redirect(target, code=303)
    if form.is_submitted():
        status = 400
    return (
        render_template(
            "shop/problem_form.html",
            form=form,
            order=order,
            deadline=disputes.report_deadline(order),
            max_photos=disputes.MAX_PHOTOS,
        ),
        status,
    )


@bp.post("/orders/<int:order_id>/problem/escalate")
@login_required
def escalate_problem(order_id: int) -> ResponseReturnValue:
    problem = _own_problem(order_id)
    if ProblemActionForm().validate_on_submit():
        try:
            disputes.escalate(problem.id, current_user._get_current_object())
        except disputes.ProblemClosed:
            flash(_("The market cannot be asked to decide this problem now."), "error")
        else:
            flash(_("The market's staff will look at the problem and decide."), "success")
    else:
        flash(_("Please try again."), "error")
    return redirect(url_for("shop.order_detail", order_id=order_id), code=303)


@bp.post("/orders/<int:order_id>/problem/withdraw")
@login_required
def withdraw_problem(order_id: int) -> ResponseReturnValue:
    problem = _own_problem(order_id)
    if ProblemActionForm().validate_on_submit():
        try:
            disputes.withdraw(problem.id, current_user._get_current_object())
        except disputes.ProblemClosed:
            flash(_("This problem was already decided."), "error")
        else:
            flash(_("You withdrew your report."), "success")
    else:
        flash(_("Please try again."), "error")
    return redirect(url_for("shop.order_detail", order_id=order_id), code=303)

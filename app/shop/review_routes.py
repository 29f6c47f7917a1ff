"""Reviews on the storefront: a customer writes (or edits) the review of a completed order line,
anyone reads a product's reviews, anyone signed in reports one."""

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

from app.catalog import queries, ratings
from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.notifications.reviews import send_review_event
from app.reviews import services as reviews
from app.reviews.models import Review
from app.shop import bp
from app.web.http import page_arg
from app.web.messages import apply_errors

STAR_LABELS = {
    5: _l("5 stars: excellent"),
    4: _l("4 stars: good"),
    3: _l("3 stars: fair"),
    2: _l("2 stars: poor"),
    1: _l("1 star: bad"),
}


class ReviewForm(FlaskForm):
    stars = RadioField(
        _l("Your rating"),
        choices=[SelectChoice(str(n), label) for n, label in STAR_LABELS.items()],
        validators=[InputRequired(message=_l("Choose from one to five stars."))],
    )
    body = TextAreaField(
        _l("Your review (optional)"),
        validators=[Length(max=reviews.BODY_MAX, message=_l("That is too long."))],
    )
    photos = MultipleFileField(_l("Photos (up to 3; JPEG, PNG or WebP)"))


class ReportForm(FlaskForm):
    reason = TextAreaField(
        _l("Why should staff look at this review?"),
        validators=[InputRequired(), Length(max=reviews.REASON_MAX)],
    )


@bp.route("/orders/<int:order_id>/lines/<int:line_id>/review", methods=["GET", "POST"])
@login_required
def write_review(order_id: int, line_id: int) -> ResponseReturnValue:
    user = current_user._get_current_object()
    try:
        line = reviews.reviewable_line(line_id, user)
    except NotAllowed:
        abort(404)
    if line.order_id != order_id:
        abort(404)
    target = url_for("shop.order_detail", order_id=order_id)
    existing = reviews.review_of_line(line.id)
    if existing is not None and not reviews.may_edit(existing):
        flash(_("This review can no longer be edited."), "error")
        return redirect(target)
    form = ReviewForm(obj=None)
    if existing is not None and not form.is_submitted():
        form.stars.data = str(existing.stars)
        form.body.data = existing.body
    status = 200
    if form.validate_on_submit():
        try:
            if existing is None:
                uploads = [f for f in (form.photos.data or []) if getattr(f, "filename", "")]
                written = reviews.write(
                    line.id,
                    user,
                    form.stars.data,
                    form.body.data or "",
                    [f.stream for f in uploads],
                )
                send_review_event("new", written.id)
            else:
                reviews.edit(existing.id, user, form.stars.data, form.body.data or "")
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except NotAllowed:
            abort(404)
        else:
            flash(_("Thank you: your review is published."), "success")
            return redirect(target, code=303)
    if form.is_submitted():
        status = 400
    return (
        render_template(
            "shop/review_form.html",
            form=form,
            line=line,
            review=existing,
            edit_until=reviews.edit_deadline(existing) if existing is not None else None,
            max_photos=reviews.MAX_PHOTOS,
        ),
        status,
    )


@bp.get("/p/<int:product_id>/reviews")
def product_reviews(product_id: int) -> ResponseReturnValue:
    item = queries.public_product(product_id)
    if item is None:
        abort(404)
    return render_template(
        "shop/reviews.html",
        product=item,
        rating=ratings.product_rating(item.id),
        page=reviews.product_reviews(item.id, page_arg()),
    )


@bp.route("/reviews/<int:review_id>/report", methods=["GET", "POST"])
@login_required
def report_review(review_id: int) -> ResponseReturnValue:
    review = db.session.get(Review, review_id)
    if review is None or review.hidden:
        abort(404)
    form = ReportForm()
    status = 200
    if form.validate_on_submit():
        try:
            reviews.report(review.id, current_user._get_current_object(), form.reason.data or "")
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except NotAllowed:
            abort(404)
        else:
            flash(_("Thank you: staff will look at this review."), "success")
            return redirect(url_for("shop.product_reviews", product_id=review.product_id), 303)
    if form.is_submitted():
        status = 400
    return render_template("shop/review_report.html", form=form, review=review), status

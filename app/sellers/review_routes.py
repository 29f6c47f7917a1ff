"""The reviews of a seller's products, each with the seller's one answer."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.catalog import ratings
from app.core.errors import NotAllowed, ValidationFailed
from app.notifications.reviews import send_review_event
from app.reviews import services as reviews
from app.sellers import bp
from app.sellers.routes import current_seller
from app.web.http import page_arg
from app.web.messages import error_text


@bp.get("/reviews")
def reviews_list() -> ResponseReturnValue:
    seller = current_seller()
    return render_template(
        "sellers/reviews.html",
        page=reviews.seller_reviews(seller.id, page_arg()),
        rating=ratings.seller_rating(seller.id),
    )


@bp.post("/reviews/<int:review_id>/answer")
def answer_review(review_id: int) -> ResponseReturnValue:
    try:
        reviews.answer(
            review_id,
            current_seller(),
            current_user._get_current_object(),
            request.form.get("answer", ""),
        )
    except ValidationFailed as exc:
        for codes in exc.errors.values():
            for code in codes:
                flash(error_text(code), "error")
    except NotAllowed:
        abort(404)
    else:
        send_review_event("answered", review_id)
        flash(_("Your answer is published under the review."), "success")
    return redirect(url_for("sellers.reviews_list", page=page_arg()), code=303)

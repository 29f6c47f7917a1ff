"""Reported reviews: staff hide one with a reason, keep it, or show a hidden one again
(audited)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.core.errors import NotAllowed, ValidationFailed
from app.notifications.reviews import send_review_event
from app.reviews import services as reviews
from app.web.http import page_arg

PER_PAGE = 30


@bp.get("/reviews")
def reported_reviews() -> ResponseReturnValue:
    hidden = request.args.get("show") == "hidden"
    return render_template(
        "admin/reviews.html",
        page=reviews.reported_reviews(page_arg(), hidden=hidden, per_page=PER_PAGE),
        hidden=hidden,
    )


def _back() -> ResponseReturnValue:
    show = "hidden" if request.form.get("show") == "hidden" else None
    return redirect(url_for("admin.reported_reviews", show=show), code=303)


@bp.post("/reviews/<int:review_id>/hide")
def hide_review(review_id: int) -> ResponseReturnValue:
    try:
        hidden = reviews.hide(
            review_id, current_user._get_current_object(), request.form.get("reason", "")
        )
    except ValidationFailed:
        flash(_("Give the reason for hiding the review."), "error")
    except NotAllowed:
        abort(404)
    else:
        if hidden:
            send_review_event("hidden", review_id)
        flash(_("The review is hidden."), "success")
    return _back()


@bp.post("/reviews/<int:review_id>/unhide")
def unhide_review(review_id: int) -> ResponseReturnValue:
    try:
        reviews.unhide(
            review_id, current_user._get_current_object(), request.form.get("reason", "")
        )
    except ValidationFailed:
        flash(_("Give the reason for keeping or showing the review."), "error")
    except NotAllowed:
        abort(404)
    else:
        flash(_("The review is shown."), "success")
    return _back()

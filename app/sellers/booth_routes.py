"""The seller's booth: a phone page to record sales at a fair quickly, kept on the phone while
the connection is down and sent when it returns (``static/js/booth.js``)."""

from __future__ import annotations

from flask import jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.sellers import bp
from app.sellers.routes import current_seller
from app.web import booth


@bp.get("/booth")
def booth_page() -> ResponseReturnValue:
    return render_template(
        "sellers/booth.html",
        **booth.page_context(
            current_seller(),
            current_user.id,
            record_url=url_for("sellers.booth_entry"),
            form_url=url_for("sellers.offline_sales"),
            worker_url=url_for("sellers.booth_worker"),
        ),
    )


@bp.get("/booth/worker.js")
def booth_worker() -> ResponseReturnValue:
    return booth.worker_response(url_for("sellers.booth_page"))


@bp.post("/booth/entries")
def booth_entry() -> ResponseReturnValue:
    body, status = booth.record(
        current_seller(),
        current_user.id,
        request.get_json(silent=True),
        foreign_product=_("A product on the list is not one of yours."),
    )
    return jsonify(body), status

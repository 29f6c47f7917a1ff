"""The seller's market campaigns: the campaigns open to join, and joining or leaving one. The
rules are the campaign service's (``app.catalog.campaigns``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.catalog import campaigns
from app.core.errors import NotFound, ValidationFailed
from app.sellers import bp
from app.sellers.routes import current_seller
from app.web.messages import error_text


class JoinForm(FlaskForm):
    pass


@bp.get("/campaigns")
def campaign_list() -> ResponseReturnValue:
    seller = current_seller()
    return render_template(
        "sellers/campaigns.html",
        seller=seller,
        rows=campaigns.open_to_join(seller),
        is_running=campaigns.is_running,
        last_day=campaigns.last_day,
        category_names=campaigns.category_names,
        form=JoinForm(formdata=None),
    )


@bp.post("/campaigns/<int:campaign_id>")
def join_campaign(campaign_id: int) -> ResponseReturnValue:
    if not JoinForm().validate_on_submit():
        abort(400)
    want = request.form.get("want", "")
    if want not in ("0", "1"):
        abort(400)
    try:
        campaigns.set_joined(current_seller(), campaign_id, want == "1")
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        flash(" ".join(error_text(code) for code in exc.errors.get("campaign", [])), "error")
        return redirect(url_for("sellers.campaign_list"))
    if want == "1":
        flash(_("Your shop has joined the campaign."), "success")
    else:
        flash(_("Your shop has left the campaign."), "success")
    return redirect(url_for("sellers.campaign_list"))

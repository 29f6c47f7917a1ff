"""Staff area: market campaigns across shops (list, create, end after a confirmation). The
rules are the campaign service's (``app.catalog.campaigns``); these views read the forms."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.admin import bp
from app.catalog import campaigns
from app.catalog.models import Campaign
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.orders import lookups as order_lookups
from app.web.forms import LocalDateField, LocalIntegerField, LocalMoneyField, coerce_id
from app.web.messages import apply_errors


class CampaignForm(FlaskForm):
    name_fa = StringField(_l("Name (Persian)"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=100)])
    percent = LocalIntegerField(_l("Percentage off (1 to 90)"), validators=[Optional()])
    cap_toman = LocalMoneyField(  # held in rials
        _l("Most taken off one item (toman, optional)"), validators=[Optional()]
    )
    starts_on = LocalDateField(_l("First day"), validators=[Optional()])
    ends_on = LocalDateField(_l("Last day"), validators=[Optional()])
    payer = SelectField(
        _l("Who pays the discount"),
        choices=lambda: [
            ("market", _l("The market (sellers are paid the list price)")),
            ("seller", _l("The sellers")),
        ],
        default="market",
    )
    categories = SelectMultipleField(
        _l("Categories (none: all)"), coerce=coerce_id, validate_choice=False
    )


class EndForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, end this campaign now: its shops' prices go back to their own at once.")
    )
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])


def _page(form: CampaignForm, status: int = 200) -> ResponseReturnValue:
    form.categories.choices = campaigns.category_choices()
    return (
        render_template(
            "admin/campaigns.html",
            form=form,
            rows=campaigns.all_campaigns(),
            is_over=campaigns.is_over,
            is_running=campaigns.is_running,
            last_day=campaigns.last_day,
            category_names=campaigns.category_names,
            costs=order_lookups.campaign_costs(),
        ),
        status,
    )


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/campaigns")
def campaign_list() -> ResponseReturnValue:
    return _page(CampaignForm(formdata=None))


@bp.post("/campaigns")
def create_campaign() -> ResponseReturnValue:
    form = CampaignForm()
    form.categories.choices = campaigns.category_choices()
    if not form.validate_on_submit():
        return _page(form, 400)
    data = campaigns.CampaignData(
        name_fa=form.name_fa.data or "",
        name_en=form.name_en.data or "",
        percent=form.percent.data,
        cap_amount=form.cap_toman.data,
        first_day=form.starts_on.data,
        last_day=form.ends_on.data,
        payer=form.payer.data or "",
        category_ids=[i for i in (form.categories.data or []) if i > 0],
    )
    try:
        campaigns.create_campaign(current_user.id, data)
    except ValidationFailed as exc:
        fields = {("cap_toman" if k == "cap_amount" else k): v for k, v in exc.errors.items()}
        apply_errors(form, ValidationFailed(fields))
        return _page(form, 400)
    flash(_("The campaign is saved. Sellers can now join it."), "success")
    return redirect(url_for("admin.campaign_list"))


@bp.route("/campaigns/<int:campaign_id>/end", methods=["GET", "POST"])
def end_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    form = EndForm()
    if request.method == "GET" or not form.validate_on_submit() or not form.confirm.data:
        status = 200 if request.method == "GET" else 400
        if request.method == "POST" and not form.confirm.data:
            form.confirm.errors = [_("Tick the box to confirm.")]
        return (
            render_template(
                "admin/campaign_end.html",
                campaign=campaign,
                form=form,
                over=campaigns.is_over(campaign),
                last_day=campaigns.last_day(campaign),
            ),
            status,
        )
    try:
        campaigns.end_campaign(current_user.id, campaign.id, form.reason.data or "")
    except NotFound:
        abort(404)
    flash(_("The campaign has ended."), "success")
    return redirect(url_for("admin.campaign_list"))

"""The forms of the staff area: a seller review decision and the county quotas (one, or a CSV)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.web.forms import coerce_id


class ReviewForm(FlaskForm):
    action = StringField()  # set by the button pressed
    reason = TextAreaField(
        _l("Reason (shown to the seller)"), validators=[Optional(), Length(max=2000)]
    )


# Typed numbers are text inputs with a numeric keyboard: Chromium empties a type="number" input
# that holds Persian digits. The values are read by app.inputs (through counties.number).
NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}


class QuotaForm(FlaskForm):
    """One county's quota for one programme year. Numbers are text fields so that Persian
    digits and thousands separators are accepted; the service checks the values."""

    county_id = SelectField(_l("County"), coerce=coerce_id, validate_choice=False)
    programme_year = StringField(
        _l("Programme year"),
        description=_l("The Jalali year in which the programme year starts, e.g. 1405."),
        render_kw=NUMERIC,
    )
    target_sellers = StringField(
        _l("Target: businesses connected to the market"),
        description=_l("How many trained businesses should make a first sale."),
        render_kw=NUMERIC,
    )
    target_sales = StringField(
        _l("Target: sales volume (toman)"),
        description=_l("Leave empty to keep the current target (0 for a new quota)."),
        render_kw=NUMERIC,
    )


class QuotaUploadForm(FlaskForm):
    file = FileField(_l("CSV file"))


class QuotaConfirmForm(FlaskForm):
    # The checked file's text comes back with the confirmation and is checked again.
    csv_text = HiddenField()


class SitePageForm(FlaskForm):
    """The titles and bodies of one of the market's own pages, in Persian and English. Bodies are
    plain text (see app.pages.markup); the service checks them (required, lengths)."""

    title_fa = StringField(_l("Title (Persian)"))
    body_fa = TextAreaField(
        _l("Text (Persian)"),
        description=_l(
            "Plain text. A blank line starts a paragraph; a line starting with ## is a heading, "
            "lines starting with - are a list; [text](https://…) or [text](/returns) is a link."
        ),
    )
    title_en = StringField(_l("Title (English)"))
    body_en = TextAreaField(_l("Text (English)"))


class BeneficiaryForm(FlaskForm):
    """The beneficiary's record with the seller's national-portal code and training provider;
    choices are filled by the route, the service checks the values."""

    registration_code = StringField(
        _l("National portal registration code"), validators=[Optional(), Length(max=40)]
    )
    training_provider = StringField(
        _l("Training provider"), validators=[Optional(), Length(max=160)]
    )
    cohort = StringField(
        _l("Training cohort"),
        description=_l("As the national portal names it, e.g. 1403-2."),
        validators=[Optional(), Length(max=60)],
    )
    gender = SelectField(_l("Gender"), validate_choice=False)
    age_band = SelectField(_l("Age band"), validate_choice=False)
    locality = SelectField(_l("Rural or urban"), validate_choice=False)
    income_band = SelectField(_l("Household income before the programme"), validate_choice=False)
    other_support = TextAreaField(
        _l("Other support received"), validators=[Optional(), Length(max=2000)]
    )


class LoanForm(FlaskForm):
    amount = StringField(_l("Amount (toman)"), render_kw=NUMERIC)
    granted_on = StringField(
        _l("Granted on"),
        description=_l("Jalali (1403/05/20) or Gregorian (2024-08-10)."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    bank = StringField(_l("Bank"), validators=[Optional(), Length(max=100)])
    purpose = SelectField(_l("Sector purpose"), validate_choice=False)
    repayment = SelectField(_l("Repayment"), validate_choice=False)


class FlagDecisionForm(FlaskForm):
    action = StringField()  # "clear" or "confirm", set by the button pressed
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ConsentCodeForm(FlaskForm):
    """The code the seller reads out to the staff member listing on their behalf."""

    code = StringField(
        _l("Code the seller reads out"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )

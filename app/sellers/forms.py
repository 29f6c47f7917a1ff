from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.web.forms import LocalDateField, LocalIntegerField, LocalMoneyField
from app.web.listing_form import ListingForm as ListingForm
from app.web.listing_form import QuickEditForm as QuickEditForm
from app.web.provinces import PROVINCES


class SellerProfileForm(FlaskForm):
    display_name = StringField(_l("Business name"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        _l("Shop address"),
        validators=[Optional(), Length(min=3, max=60)],
        description=_l(
            "Persian or Latin letters, digits and dashes; leave empty to make one from the name."
        ),
    )
    bio = TextAreaField(_l("About your business"), validators=[Optional(), Length(max=4000)])
    county_id = SelectField(_l("County"), coerce=int, validators=[DataRequired()])
    sector_id = SelectField(_l("Sector"), coerce=int, validators=[DataRequired()])
    # Checked by the seller service, which reads Persian and Arabic-Indic digits, +98 and
    # spaces (app.inputs.normalise_mobile) exactly as checkout does.
    phone = StringField(
        _l("Mobile number"),
        validators=[DataRequired(), Length(max=30)],
        render_kw={"inputmode": "tel", "dir": "ltr"},
    )
    registration_code = StringField(
        _l("Programme registration code"), validators=[Optional(), Length(max=40)]
    )
    training_completed_on = LocalDateField(
        _l("Training completed on"),
        validators=[Optional()],
        description=_l("As on your certificate, e.g. 1403/05/12."),
    )
    training_provider = StringField(
        _l("Training provider"), validators=[Optional(), Length(max=160)]
    )
    permit_number = StringField(_l("Permit number"), validators=[Optional(), Length(max=60)])
    sheba = StringField(
        _l("Sheba number (bank account for payouts)"),
        validators=[Optional(), Length(max=60)],
        description=_l("IR and 24 digits, as on your bank card or statement."),
        render_kw={"inputmode": "text", "dir": "ltr", "autocomplete": "off"},
    )
    logo = FileField(_l("Logo (JPEG, PNG or WebP)"))
    # A logo already stored by an earlier try of this form (signed; see sellers.routes).
    logo_token = HiddenField()


class AltTextForm(FlaskForm):
    alt_text = StringField(_l("Photo description"), validators=[Length(max=200)])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))


class ConfirmImportForm(FlaskForm):
    token = HiddenField()


class ShippingMethodForm(FlaskForm):
    """A shipping method: amounts typed in toman (held in rials), days as whole numbers, any
    digits. Ranges are the shipping service's rules; the fields only read the numbers."""

    carrier = SelectField(_l("Carrier"), validate_choice=False)
    name = StringField(
        _l("Name shown to customers"),
        validators=[Optional(), Length(max=80)],
        description=_l("Leave empty to use the carrier's name."),
    )
    active = BooleanField(_l("Offer this method to customers"), default=True)
    flat_amount = LocalMoneyField(
        _l("Shipping cost (toman)"),
        default=0,
        description=_l("For every province without a price of its own below."),
    )
    per_extra_item_amount = LocalMoneyField(
        _l("Added for each extra item (toman)"),
        default=0,
        validators=[Optional()],
        description=_l("Added once for every unit after the first; 0 for none."),
    )
    free_over_amount = LocalMoneyField(
        _l("Free shipping for orders from (toman)"),
        validators=[Optional()],
        description=_l("Leave empty for no free shipping."),
    )
    processing_days = LocalIntegerField(
        _l("Days to make or pack the order"),
        validators=[Optional()],
        description=_l("For made-to-order goods: the most days you need before sending."),
    )
    delivery_min_days = LocalIntegerField(
        _l("Delivery takes at least (days)"), validators=[Optional()]
    )
    delivery_max_days = LocalIntegerField(
        _l("Delivery takes at most (days)"), validators=[Optional()]
    )


# One price field per province (province_0 … province_30, in the order of PROVINCES).
for _index, (_fa, _en) in enumerate(PROVINCES):
    setattr(
        ShippingMethodForm,
        f"province_{_index}",
        LocalMoneyField(_fa, validators=[Optional()]),
    )


class VacationForm(FlaskForm):
    away_until = LocalDateField(
        _l("Back on"),
        validators=[Optional()],
        description=_l("The date you start sending orders again, e.g. 1403/05/12."),
    )
    away_note = TextAreaField(
        _l("Note for customers (optional)"), validators=[Optional(), Length(max=300)]
    )


class CouponForm(FlaskForm):
    """A shop coupon: the code, a percentage or an amount (toman, held in rials) off, the
    minimum order, the first and last day and how many times it may be used. The rules are the
    coupon service's; the fields only read the values."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32)],
        description=_l("Latin letters and digits, e.g. NOWRUZ; customers may type it in any case."),
    )
    kind = SelectField(
        _l("Discount"),
        choices=lambda: [("percent", _l("A percentage off")), ("amount", _l("An amount off"))],
        default="percent",
    )
    percent = LocalIntegerField(_l("Percentage"), validators=[Optional()])
    amount_toman = LocalMoneyField(_l("Amount (toman)"), validators=[Optional()])  # held in rials
    min_order_toman = LocalMoneyField(  # held in rials
        _l("Minimum order (toman, optional)"), validators=[Optional()]
    )
    starts_on = LocalDateField(_l("First day"), validators=[Optional()])
    ends_on = LocalDateField(_l("Last day"), validators=[Optional()])
    max_uses = LocalIntegerField(_l("How many times it may be used"), validators=[Optional()])

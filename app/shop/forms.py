"""Forms of the buying pages: add to cart, cart lines, checkout (Iranian address fields)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    AnyOf,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.orders.cart import MAX_QUANTITY
from app.web.forms import LocalIntegerField
from app.web.messages import ERROR_TEXT
from app.web.provinces import PROVINCES

_PROVINCE_EN = dict(PROVINCES)
MAX_ID = 2**31 - 1

REQUIRED = ERROR_TEXT["required"]
TOO_LONG = ERROR_TEXT["too_long"]
QUANTITY = ERROR_TEXT["quantity_range"]


def province_label(stored: str | None, locale: str) -> str:
    """A stored (Persian) province name in the reader's language; unknown names as stored."""
    if not stored:
        return ""
    return _PROVINCE_EN.get(stored, stored) if locale == "en" else stored


def province_choices(locale: str) -> list[tuple[str, str]]:
    if locale == "en":
        return sorted(((fa, en) for fa, en in PROVINCES), key=lambda c: c[1])
    return [(fa, fa) for fa, _ in PROVINCES]


class AddToCartForm(FlaskForm):
    """Only a product (and its variant, for a product with options) and a quantity: the price
    always comes from the database."""

    product_id = LocalIntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])
    variant_id = LocalIntegerField(validators=[Optional(), NumberRange(1, MAX_ID)])
    quantity = LocalIntegerField(
        _l("Quantity"),
        default=1,
        validators=[InputRequired(QUANTITY), NumberRange(1, MAX_QUANTITY, QUANTITY)],
    )


class ToggleForm(FlaskForm):
    """A heart or a follow button: ``want`` says the state asked for (``1`` or ``0``), so a
    repeated press changes nothing; ``next`` is the page to go back to."""

    want = HiddenField(validators=[InputRequired(), AnyOf(["0", "1"])])
    next = HiddenField()


class CartLineForm(FlaskForm):
    """A new quantity for a cart line (of a variant, with ``variant_id``); 0 removes it."""

    product_id = LocalIntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])
    variant_id = LocalIntegerField(validators=[Optional(), NumberRange(1, MAX_ID)])
    quantity = LocalIntegerField(
        _l("Quantity"), validators=[InputRequired(QUANTITY), NumberRange(0, MAX_QUANTITY, QUANTITY)]
    )


class CheckoutForm(FlaskForm):
    """The shipping address and the payment method. Mobile and postal code are checked (and
    Persian digits accepted) by the checkout service, so the form and the service agree."""

    recipient_name = StringField(
        _l("Recipient's full name"),
        validators=[InputRequired(REQUIRED), Length(max=120, message=TOO_LONG)],
    )
    mobile = StringField(
        _l("Mobile number"),
        validators=[InputRequired(REQUIRED), Length(max=20, message=TOO_LONG)],
        description=_l("For example 09121234567. The courier calls this number."),
        render_kw={"inputmode": "tel"},
    )
    province = SelectField(
        _l("Province"), validators=[InputRequired(REQUIRED)], validate_choice=False
    )
    city = StringField(
        _l("City"), validators=[InputRequired(REQUIRED), Length(max=100, message=TOO_LONG)]
    )
    address = TextAreaField(
        _l("Address"),
        validators=[InputRequired(REQUIRED), Length(max=1000, message=TOO_LONG)],
        description=_l("Street, alley, number, floor and unit."),
    )
    postal_code = StringField(
        _l("Postal code"),
        validators=[InputRequired(REQUIRED), Length(max=20, message=TOO_LONG)],
        description=_l("10 digits, without a dash."),
        render_kw={"inputmode": "numeric"},
    )
    coupon = StringField(
        _l("Shop coupon code (optional)"),
        validators=[Optional(), Length(max=64, message=TOO_LONG)],
        description=_l("Takes its shop's discount off that shop's items."),
    )
    payment_method = RadioField(_l("Payment"), default="cash", validate_choice=False)
    checkout_token = HiddenField()
    cart_version = HiddenField()  # the cart as this page showed it (see carts.lock)

    def __init__(
        self, *args: object, online: Sequence[tuple[str, Any]] = (), **kwargs: object
    ) -> None:
        """``online``: (value, label) of each online payment provider offered, in order."""
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "fa")
        self.province.choices = [("", _l("Choose…")), *province_choices(locale)]
        methods: list[tuple[str, Any]] = [("cash", _l("Cash on delivery")), *online]
        self.payment_method.choices = methods
        # A fresh list: validators given to the field class are shared by every instance.
        self.payment_method.validators = [
            InputRequired(_l("Choose a payment method.")),
            AnyOf([value for value, _ in methods], message=_l("Choose a payment method.")),
        ]

    def validate_province(self, field: SelectField) -> None:
        if field.data and field.data not in _PROVINCE_EN:
            raise ValidationError(_l("Choose a province from the list."))

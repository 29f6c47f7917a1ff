"""The forms of the account pages: log in, register, change the password, confirm it again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.accounts.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.core.formatting import LocalNumber


def _new_password_rules() -> list[DataRequired | Length]:
    """The length rule of a new password (the service checks the rest: common words, sequences,
    the e-mail address)."""
    return [
        DataRequired(),
        Length(
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            message=_l("Use at least %(n)s characters.", n=LocalNumber(MIN_PASSWORD_LENGTH)),
        ),
    ]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in"))
    next = HiddenField()


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=_new_password_rules(),
        description=_l("At least 12 characters; not a common password, a sequence or your e-mail."),
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=_new_password_rules())
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class SetPasswordForm(FlaskForm):
    """A first password, for an account made with a mobile number (no current one to ask)."""

    new_password = PasswordField(_l("New password"), validators=_new_password_rules())
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class DeleteAccountForm(FlaskForm):
    understood = BooleanField(
        _l("I understand that my account is deleted for good and I cannot log in again."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class EmailForm(FlaskForm):
    email = EmailField(_l("New e-mail address"), validators=[DataRequired(), Length(max=254)])


class MobileForm(FlaskForm):
    mobile = StringField(
        _l("Mobile number"),
        validators=[DataRequired(), Length(max=30)],
        description=_l("Such as 09121234567; Persian digits are fine."),
    )
    next = HiddenField()


class WelcomeForm(FlaskForm):
    """A new account for a number just proved by a code: a name, an address if one likes."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(
        _l("E-mail (optional)"),
        validators=[Optional(), Length(max=254)],
        description=_l("For receipts and news of your orders; we send it a link to confirm it."),
    )
    next = HiddenField()


def _code_field() -> StringField:
    """The field of a code texted by SMS (Persian digits are read as digits by the service)."""
    return StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("The 6 digits in the text message."),
    )


class CodeForm(FlaskForm):
    code = _code_field()
    next = HiddenField()


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"),
        validators=_new_password_rules(),
        description=_l("At least 12 characters; not a common password, a sequence or your e-mail."),
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class CodeResetForm(ResetPasswordForm):
    """A new password with the code texted to the account's mobile number."""

    code = _code_field()


class ReauthForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    next = HiddenField()

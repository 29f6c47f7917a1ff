from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional


class ReviewForm(FlaskForm):
    action = StringField()  # set by the button pressed
    reason = TextAreaField(
        _l("Reason (shown to the seller)"), validators=[Optional(), Length(max=2000)]
    )

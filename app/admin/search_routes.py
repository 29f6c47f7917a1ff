"""Staff area: the search synonyms (pairs of words search treats as one)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from app.admin import bp
from app.catalog import synonyms
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.web.messages import apply_errors


class SynonymForm(FlaskForm):
    word = StringField(_l("Word"), validators=[InputRequired(), Length(max=60)])
    other = StringField(_l("Also finds"), validators=[InputRequired(), Length(max=60)])


class RemoveForm(FlaskForm):
    pass


def _page(form: SynonymForm | None = None, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "admin/synonyms.html",
            form=form or SynonymForm(formdata=None),
            remove_form=RemoveForm(formdata=None),
            pairs=synonyms.all_pairs(),
        ),
        status,
    )


@bp.get("/search/synonyms")
def search_synonyms() -> ResponseReturnValue:
    return _page()


@bp.post("/search/synonyms")
def add_search_synonym() -> ResponseReturnValue:
    form = SynonymForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        row = synonyms.add(current_user.id, form.word.data or "", form.other.data or "")
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(form, 400)
    db.session.commit()
    flash(
        _("Search now treats «%(word)s» and «%(other)s» as one.", word=row.word, other=row.other),
        "success",
    )
    return redirect(url_for("admin.search_synonyms"))


@bp.post("/search/synonyms/<int:synonym_id>/remove")
def remove_search_synonym(synonym_id: int) -> ResponseReturnValue:
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        synonyms.remove(current_user.id, synonym_id)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("The synonym was removed."), "success")
    return redirect(url_for("admin.search_synonyms"))

"""Staff pages: the market's own pages (about, contact, terms, returns, privacy, the programme
badge), edited without a deploy."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.admin.forms import SitePageForm
from app.core.errors import ValidationFailed
from app.pages import services as pages
from app.web.messages import apply_errors


@bp.get("/pages")
def site_pages() -> ResponseReturnValue:
    return render_template("admin/site_pages.html", pages=pages.all_pages())


def _page_or_404(key: str) -> pages.Page:
    page = pages.get_page(key)
    if page is None:
        abort(404)
    return page


@bp.route("/pages/<key>", methods=["GET", "POST"])
def edit_site_page(key: str) -> ResponseReturnValue:
    page = _page_or_404(key)
    form = SitePageForm(data={name: getattr(page, name) for name in pages.FIELDS})
    if not form.is_submitted():
        return render_template("admin/site_page_form.html", page=page, form=form)
    if form.validate():
        try:
            changed = pages.save_page(
                current_user.id, key, {name: getattr(form, name).data for name in pages.FIELDS}
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            if changed:
                flash(_("The page was saved; visitors see the new text now."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("admin.site_pages"))
    return render_template("admin/site_page_form.html", page=page, form=form), 400

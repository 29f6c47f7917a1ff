"""The signed-in user's notifications: the list of what happened to them (newest first, unread
marked), opening one (marked read) and marking all read. The header shows the unread count."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.notifications import site
from app.shop import bp
from app.shop.cache import KNOWN_UNREAD
from app.web.http import page_arg

PER_PAGE = 20


@bp.app_template_global()
def unread_count() -> int:
    """The signed-in visitor's unread notices, for the header (read with the login on a cached
    page's hit; else one query)."""
    if not current_user.is_authenticated:
        return 0
    known = request.environ.get(KNOWN_UNREAD)
    if known is None:
        known = request.environ[KNOWN_UNREAD] = site.unread_count(current_user.id)
    return int(known)


@bp.get("/notifications")
@login_required
def notices() -> ResponseReturnValue:
    page = site.page(current_user.id, page_arg(), PER_PAGE)
    return render_template(
        "shop/notices.html", page=page, most_counted=site.MOST_COUNTED, unread=unread_count()
    )


@bp.get("/notifications/<int:notice_id>")
@login_required
def open_notice(notice_id: int) -> ResponseReturnValue:
    """Mark the notice read and go to the page it is about."""
    link = site.open_notice(current_user.id, notice_id)
    if link is None:
        abort(404)
    # Stored by the market itself, but never follow anything but a path on this site.
    if not link.startswith("/") or link.startswith("//"):
        link = url_for("shop.notices")
    return redirect(link)


@bp.post("/notifications/read")
@login_required
def read_all_notices() -> ResponseReturnValue:
    if site.mark_all_read(current_user.id):
        flash(_("All your notifications are marked read."), "success")
    return redirect(url_for("shop.notices"))

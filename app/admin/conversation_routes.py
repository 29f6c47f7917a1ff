"""Reported conversations: staff read them and hide abusive messages (with a reason, audited)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.conversations import services as conversations
from app.conversations.models import ConversationMessage
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.web.http import page_arg

PER_PAGE = 30


@bp.get("/conversations")
def reported_conversations() -> ResponseReturnValue:
    page = conversations.reported(page_arg(), PER_PAGE)
    return render_template("admin/conversations.html", page=page)


@bp.get("/conversations/<int:conversation_id>")
def conversation(conversation_id: int) -> ResponseReturnValue:
    found = conversations.get(conversation_id)
    if found is None:
        abort(404)
    return render_template("admin/conversation.html", conversation=found)


@bp.post("/conversations/messages/<int:message_id>/hide")
def hide_message(message_id: int) -> ResponseReturnValue:
    message = db.session.get(ConversationMessage, message_id)
    if message is None:
        abort(404)
    try:
        conversations.hide_message(current_user, message, request.form.get("reason", ""))
    except ValidationFailed:
        flash(_("Give the reason for hiding the message."), "error")
    else:
        flash(_("The message is hidden."), "success")
    return redirect(url_for("admin.conversation", conversation_id=message.conversation_id))

"""The shop's conversations with customers: read and answer, report."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from app.conversations import services as conversations
from app.notifications.messages import send_new_message
from app.sellers import bp
from app.sellers.routes import current_seller
from app.web import conversation_views as views
from app.web.http import page_arg

PER_PAGE = 20


@bp.get("/messages")
def conversations_list() -> ResponseReturnValue:
    page = conversations.of_seller(current_seller(), page_arg(), PER_PAGE)
    return render_template(
        "conversations/list.html",
        page=page,
        side=conversations.SELLER,
        is_unread=conversations.is_unread,
    )


@bp.route("/messages/<int:conversation_id>", methods=["GET", "POST"])
def conversation(conversation_id: int) -> ResponseReturnValue:
    current_seller()
    found = views.own_conversation(conversation_id, conversations.SELLER)
    return views.thread_page(found, conversations.SELLER, "sellers.conversation", send_new_message)


@bp.post("/messages/<int:conversation_id>/report")
def conversation_report(conversation_id: int) -> ResponseReturnValue:
    found = views.own_conversation(conversation_id, conversations.SELLER)
    return views.report(found, "sellers.conversation")

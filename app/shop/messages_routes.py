"""The customer's conversations with shops: ask about a product, write about an order, read and
answer, report."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.catalog import queries
from app.conversations import services as conversations
from app.core.errors import NotAllowed
from app.notifications.messages import send_new_message
from app.orders import lookups as order_lookups
from app.shop import bp
from app.web import conversation_views as views
from app.web.http import page_arg

PER_PAGE = 20


@bp.route("/p/<int:product_id>/ask", methods=["GET", "POST"])
@login_required
def ask_seller(product_id: int) -> ResponseReturnValue:
    """Start (or go back to) the conversation about a product with its shop."""
    product = queries.public_product(product_id)
    if product is None:
        abort(404)
    try:
        found = conversations.about_product(current_user, product)
    except NotAllowed:
        abort(403)
    return redirect(url_for("shop.conversation", conversation_id=found.id))


@bp.post("/orders/<int:order_id>/write")
@login_required
def write_about_order(order_id: int) -> ResponseReturnValue:
    order = order_lookups.customer_order(order_id, current_user.id)
    if order is None:
        abort(404)
    found = conversations.about_order(current_user, order)
    return redirect(url_for("shop.conversation", conversation_id=found.id))


@bp.get("/messages")
@login_required
def conversations_list() -> ResponseReturnValue:
    page = conversations.of_customer(current_user, page_arg(), PER_PAGE)
    return render_template(
        "conversations/list.html",
        page=page,
        side=conversations.CUSTOMER,
        is_unread=conversations.is_unread,
    )


@bp.route("/messages/<int:conversation_id>", methods=["GET", "POST"])
@login_required
def conversation(conversation_id: int) -> ResponseReturnValue:
    found = views.own_conversation(conversation_id, conversations.CUSTOMER)
    return views.thread_page(found, conversations.CUSTOMER, "shop.conversation", send_new_message)


@bp.post("/messages/<int:conversation_id>/report")
@login_required
def conversation_report(conversation_id: int) -> ResponseReturnValue:
    found = views.own_conversation(conversation_id, conversations.CUSTOMER)
    return views.report(found, "shop.conversation")

"""Buyer–seller conversations: ask about a product, write about an order, answer from the seller
area, the other party told; only the two parties read it; reports reach staff, who hide abusive
messages; limits on length and on messages per hour."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog.models import SellerStatus
from app.conversations import services as conversations
from app.conversations.models import Conversation, ConversationMessage
from app.core.extensions import db
from app.notifications.outbox import sent_mail
from tests import factories
from tests.test_order_flow import as_user, place


def world(app):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.SELLER, email="golbibi@example.com", name="گل‌بی‌بی")
    owner.locale = "en"
    shop = factories.seller(status=SellerStatus.APPROVED, owner=owner, name="سوزن‌دوزی گل‌بی‌بی")
    product = factories.product(shop, title="رومیزی سوزن‌دوزی", stock=5)
    mina = factories.user(email="mina@example.com", name="مینا")
    mina.locale = "en"
    db.session.commit()
    return owner, shop, product, mina


def test_a_customer_asks_about_a_product_and_the_seller_answers(app):
    owner, _shop, product, mina = world(app)
    customer = as_user(app, mina)
    assert f'href="/p/{product.id}/ask"' in customer.get(f"/p/{product.id}").get_data(as_text=True)
    started = customer.get(f"/p/{product.id}/ask")
    assert started.status_code == 302
    thread = started.headers["Location"]
    assert customer.get(f"/p/{product.id}/ask").headers["Location"] == thread  # the same one
    sent = customer.post(thread, data={"body": "سلام، رنگ آبی هم دارید؟"})
    assert sent.status_code == 302
    told = [m for m in sent_mail(app.config["MAIL_DIR"]) if m.to == "golbibi@example.com"]
    assert len(told) == 1 and "/seller/messages/" in told[0].text
    assert "رنگ آبی" not in told[0].text  # the text is read on the site

    seller = as_user(app, owner)
    inbox = seller.get("/seller/messages").get_data(as_text=True)
    assert "مینا" in inbox and "New" in inbox
    conversation_id = int(thread.rsplit("/", 1)[1])
    page = seller.get(f"/seller/messages/{conversation_id}").get_data(as_text=True)
    assert "سلام، رنگ آبی هم دارید؟" in page
    assert "New" not in seller.get("/seller/messages").get_data(as_text=True)  # read now
    seller.post(f"/seller/messages/{conversation_id}", data={"body": "بله، تا سه روز دیگر."})
    answer = [m for m in sent_mail(app.config["MAIL_DIR"]) if m.to == "mina@example.com"]
    assert len(answer) == 1 and f"/messages/{conversation_id}" in answer[0].text
    assert "بله، تا سه روز دیگر." in customer.get(thread).get_data(as_text=True)


def test_only_the_two_parties_read_or_write_and_a_seller_does_not_ask_themselves(app):
    owner, _shop, product, mina = world(app)
    as_user(app, mina).get(f"/p/{product.id}/ask")
    conversation_id = db.session.scalar(sa.select(Conversation.id))
    sara = as_user(app, factories.user(email="sara@example.com"))
    assert sara.get(f"/messages/{conversation_id}").status_code == 404
    assert sara.post(f"/messages/{conversation_id}", data={"body": "x"}).status_code == 404
    other_owner = factories.user(Role.SELLER, email="other@example.com")
    factories.seller(status=SellerStatus.APPROVED, owner=other_owner)
    assert as_user(app, other_owner).get(f"/seller/messages/{conversation_id}").status_code == 404
    assert as_user(app, owner).get(f"/p/{product.id}/ask").status_code == 403
    assert app.test_client().get(f"/p/{product.id}/ask").status_code == 302  # log in first
    assert as_user(app, mina).get("/p/999999/ask").status_code == 404


def test_empty_long_and_too_many_messages_are_refused(app):
    _owner, _shop, product, mina = world(app)
    customer = as_user(app, mina)
    thread = customer.get(f"/p/{product.id}/ask").headers["Location"]
    assert customer.post(thread, data={"body": "   "}).status_code == 400
    too_long = "ا" * (conversations.MAX_LENGTH + 1)
    assert customer.post(thread, data={"body": too_long}).status_code == 400
    for n in range(conversations.MAX_PER_HOUR):
        assert customer.post(thread, data={"body": f"پیام {n}"}).status_code == 302
    refused = customer.post(thread, data={"body": "یکی دیگر"})
    assert refused.status_code == 400 and "too many messages" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ConversationMessage.id))) == (
        conversations.MAX_PER_HOUR
    )


def test_a_report_reaches_staff_who_hide_an_abusive_message(app):
    owner, _shop, product, mina = world(app)
    customer = as_user(app, mina)
    thread = customer.get(f"/p/{product.id}/ask").headers["Location"]
    conversation_id = int(thread.rsplit("/", 1)[1])
    seller = as_user(app, owner)
    seller.post(f"/seller/messages/{conversation_id}", data={"body": "پیام توهین‌آمیز"})
    customer.post(f"{thread}/report", data={"reason": "The seller insulted me."})

    staff = as_user(app, factories.user(Role.STAFF, email="staff@example.com"))
    listing = staff.get("/admin/conversations").get_data(as_text=True)
    assert "The seller insulted me." in listing
    message_id = db.session.scalar(sa.select(ConversationMessage.id))
    assert (
        staff.post(f"/admin/conversations/messages/{message_id}/hide", data={}).status_code == 302
    )
    db.session.rollback()
    assert db.session.get(ConversationMessage, message_id).hidden_at is None  # a reason first
    staff.post(f"/admin/conversations/messages/{message_id}/hide", data={"reason": "Insult"})
    page = customer.get(thread).get_data(as_text=True)
    assert "پیام توهین‌آمیز" not in page and "hidden by programme staff" in page
    assert (
        db.session.scalar(
            sa.select(AuditEvent.reason).where(AuditEvent.action == "conversation.message_hidden")
        )
        == "Insult"
    )
    assert customer.get("/admin/conversations").status_code in (302, 403, 404)


def test_a_customer_writes_about_an_order(app):
    owner, _shop, product, mina = world(app)
    order = place(mina, (product, 1)).orders[0]
    customer = as_user(app, mina)
    started = customer.post(f"/orders/{order.id}/write")
    assert started.status_code == 302
    page = customer.get(started.headers["Location"]).get_data(as_text=True)
    assert re.search(rf"About order {order.id}", page)
    sara = as_user(app, factories.user(email="sara@example.com"))
    assert sara.post(f"/orders/{order.id}/write").status_code == 404

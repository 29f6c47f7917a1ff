"""Order moves by SMS beside e-mail, as each recipient chose (both on by default): the customer
at their verified mobile or the delivery number, the seller at their mobile or shop phone; in
the recipient's language, the tracking code in the "on its way" text; the choices page."""

from __future__ import annotations

import re

from app.core.extensions import db
from app.notifications import preferences
from app.notifications.models import NotificationSetting
from app.notifications.orders import send_order_event
from app.notifications.sms_gateway import written_sms
from tests import factories
from tests.helpers import client_for
from tests.test_notifications import _place, outbox, to, world  # noqa: F401 (fixture)


def texts(app, number: str) -> list:  # type: ignore[no-untyped-def]
    return [t for t in written_sms(app.config["SMS_DIR"]) if t.to == number]


def test_each_order_move_is_texted_with_the_tracking_code(app, world):  # noqa: F811
    world["a"].phone = "09351112233"  # the shop's phone; its owner reads English
    db.session.commit()
    payment = _place(world["mina"], world["cloth"])  # delivery number 09121234567
    order_id = payment.orders[0].id
    send_order_event("placed", [order_id])
    seller = client_for(app, world["a"].user)
    seller.post(f"/seller/orders/{order_id}/move", data={"action": "confirm"})
    seller.post(
        f"/seller/orders/{order_id}/move",
        data={"action": "ship", "carrier": "پست پیشتاز", "tracking_code": "IR998877"},
    )

    customer = list(reversed(texts(app, "09121234567")))  # oldest first
    assert len(customer) == 3  # placed, confirmed, shipped
    assert all(re.search(r"[۰-۹]", t.text) for t in customer)  # her Persian digits
    assert "IR998877" in customer[2].text and f"/orders/{order_id}" in customer[2].text
    [shop] = texts(app, "09351112233")
    assert f"New order {order_id}: please confirm it" in shop.text  # in English


def test_a_verified_mobile_comes_first_and_a_choice_switches_a_channel_off(app, world):  # noqa: F811
    factories.with_mobile(world["mina"], "09150001122")
    payment = _place(world["mina"], world["cloth"])
    send_order_event("placed", [payment.orders[0].id])
    assert len(texts(app, "09150001122")) == 1 and texts(app, "09121234567") == []

    client = client_for(app, world["mina"])
    page = client.get("/auth/account/notifications").get_data(as_text=True)
    assert 'value="order_updates:sms" checked' in page
    client.post(
        "/auth/account/notifications",
        data={
            "on": [
                "order_updates:email",
                "order_updates:site",
                "messages:email",
                "messages:site",
                "problems:email",
                "problems:site",
                "reviews:email",
                "reviews:site",
                "alerts:email",
                "alerts:sms",
                "alerts:site",
                "bogus:sms",
            ]
        },
    )
    assert preferences.wants(world["mina"].id, "order_updates", "sms") is False
    assert preferences.wants(world["mina"].id, "order_updates", "email") is True
    assert db.session.query(NotificationSetting).count() == 1  # only what differs is kept

    mails_before = len(to(app, "mina@example.com"))
    second = _place(world["mina"], world["bowl"])
    send_order_event("placed", [second.orders[0].id])
    assert len(texts(app, "09150001122")) == 1  # no new text
    assert len(to(app, "mina@example.com")) == mails_before + 1  # the e-mail still comes

    client.post("/auth/account/notifications", data={})  # everything off
    third = _place(world["mina"], world["cloth"])
    send_order_event("placed", [third.orders[0].id])
    assert len(to(app, "mina@example.com")) == mails_before + 1


def test_a_customer_does_not_see_the_sellers_topic(app, world):  # noqa: F811
    page = client_for(app, world["mina"]).get("/auth/account/notifications")
    assert "shop_orders" not in page.get_data(as_text=True)
    sellers_page = client_for(app, world["a"].user).get("/auth/account/notifications")
    assert "shop_orders:sms" in sellers_page.get_data(as_text=True)

"""Ordering a past order again: its products go into the cart at today's prices, as many as are
left; what is gone or sold out is named; nothing is ordered, and only the customer's own orders."""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import ProductStatus
from app.core.extensions import db
from app.orders.models import CartLine
from tests import factories
from tests.helpers import flashes
from tests.test_order_flow import as_user, place


def cart_of(user_id: int) -> dict[int, tuple[int, int]]:
    db.session.expire_all()
    return {
        line.product_id: (line.quantity, line.seen_price_amount)
        for line in db.session.scalars(sa.select(CartLine).where(CartLine.user_id == user_id))
    }


def test_a_past_order_goes_into_the_cart_again_at_todays_prices(app):
    seller = factories.seller()
    cloth = factories.product(seller, title="رومیزی", price_amount=1_000_000, stock=10)
    bowl = factories.product(seller, title="کاسه", price_amount=400_000, stock=10)
    mat = factories.product(seller, title="حصیر", price_amount=300_000, stock=10)
    gone = factories.product(seller, title="کوزه", price_amount=200_000, stock=10)
    mina = factories.user(email="mina@example.com")
    order = place(mina, (cloth, 2), (bowl, 3), (mat, 1), (gone, 1)).orders[0]

    cloth.price_amount = 1_100_000  # dearer now
    bowl.stock = 1  # fewer left than ordered
    mat.stock = 0  # sold out
    gone.status = ProductStatus.DRAFT  # no longer for sale
    db.session.commit()

    client = as_user(app, mina)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f'action="/orders/{order.id}/reorder"' in page
    response = client.post(f"/orders/{order.id}/reorder", follow_redirects=True)
    assert response.request.path == "/cart"
    assert cart_of(mina.id) == {cloth.id: (2, 1_100_000), bowl.id: (1, 400_000)}
    assert flashes(response, "success") == [
        "The products are in your cart again, at today's prices."
    ]
    assert flashes(response, "info") == ["Only 1 of “کاسه” left: 1 are in your cart."]
    assert flashes(response, "error") == [
        "“حصیر” could not be added: sold out.",
        "“کوزه” could not be added: no longer for sale.",
    ]


def test_another_customers_order_cannot_be_ordered_again(app):
    product = factories.product(stock=10)
    mina, sara = factories.user(email="mina@example.com"), factories.user(email="sara@example.com")
    order = place(mina, (product, 1)).orders[0]
    assert as_user(app, sara).post(f"/orders/{order.id}/reorder").status_code == 404
    assert cart_of(sara.id) == {}
    assert app.test_client().post(f"/orders/{order.id}/reorder").status_code == 302  # log in

"""Domain errors of buying."""

from __future__ import annotations

from app.errors import DomainError


class OutOfStock(DomainError):
    def __init__(self, product_id: int, title: str) -> None:
        super().__init__(f"{title} ({product_id}) is out of stock")
        self.product_id = product_id
        self.title = title


class Unavailable(DomainError):
    """A product in the cart is no longer sold (unpublished, hidden, deleted, seller suspended)."""

    def __init__(self, product_id: int, title: str = "") -> None:
        super().__init__(f"product {product_id} is unavailable")
        self.product_id = product_id
        self.title = title


class CartProblem(DomainError):
    """The cart cannot be checked out as it is (empty, or lines flagged)."""


class TooManyCashOrders(DomainError):
    pass

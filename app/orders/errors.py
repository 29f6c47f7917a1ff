"""Domain errors of buying."""

from __future__ import annotations

from datetime import date

from app.core.errors import DomainError


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
    """Cash on delivery is refused: the customer already has ``open`` open cash checkouts and
    ``limit`` is the most one may have at a time."""

    def __init__(self, open: int = 0, limit: int = 0) -> None:  # noqa: A002
        super().__init__(f"{open} open cash checkouts, limit {limit}")
        self.open = open
        self.limit = limit


class CartAlreadyCheckedOut(DomainError):
    """This cart was already turned into orders (another tab, a second click): ``payment_id``
    is the checkout that made them. Nothing new is made."""

    def __init__(self, payment_id: int) -> None:
        super().__init__(f"the cart was already checked out as payment {payment_id}")
        self.payment_id = payment_id


class CartChanged(DomainError):
    """The cart changed after the checkout page was shown; the customer must see it again."""


class NotABuyer(DomainError):
    """This account may not buy in the market (programme staff)."""


class OwnProducts(DomainError):
    """A seller cannot buy their own products: ``product_ids`` are theirs."""

    def __init__(self, product_ids: set[int]) -> None:
        super().__init__(f"own products {sorted(product_ids)}")
        self.product_ids = product_ids


class SellerAway(DomainError):
    """A seller of the cart is on vacation until ``until``: their lines cannot be ordered."""

    def __init__(self, seller_id: int, name: str, until: date) -> None:
        super().__init__(f"seller {seller_id} is away until {until}")
        self.seller_id = seller_id
        self.name = name
        self.until = until


class ShippingChanged(DomainError):
    """The shipping cost of a seller's order is not the one the checkout page showed (the
    seller changed it, or the address is in another province): ``costs`` are the costs now,
    by seller id. The customer must see them before paying."""

    def __init__(self, costs: dict[int, int]) -> None:
        super().__init__(f"shipping costs changed: {costs}")
        self.costs = costs

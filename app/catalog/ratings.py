"""Rating summaries: per product and per seller, the number of visible reviews, the sum of their
stars and the count of each star, kept by :mod:`app.reviews.services` in the transaction of the
review that changed them (so no page counts reviews on a view; a card reads its product's row).

Each change is one atomic ``INSERT ... ON CONFLICT DO UPDATE`` adding the difference to the row:
the row is locked by the statement until the transaction ends, so concurrent reviews of the same
product add up exactly (never a read, then a write of a stale sum)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from app.core.extensions import Model, db

STARS = (1, 2, 3, 4, 5)


class _Summary:
    review_count: Mapped[int] = mapped_column(default=0)
    stars_sum: Mapped[int] = mapped_column(default=0)
    stars_1: Mapped[int] = mapped_column(default=0)
    stars_2: Mapped[int] = mapped_column(default=0)
    stars_3: Mapped[int] = mapped_column(default=0)
    stars_4: Mapped[int] = mapped_column(default=0)
    stars_5: Mapped[int] = mapped_column(default=0)


class ProductRating(_Summary, Model):
    __tablename__ = "product_rating"

    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )


class SellerRating(_Summary, Model):
    __tablename__ = "seller_rating"

    seller_id: Mapped[int] = mapped_column(
        sa.ForeignKey("seller.id", ondelete="CASCADE"), primary_key=True
    )


PRODUCT_TABLE: sa.Table = ProductRating.__table__  # type: ignore[assignment]
SELLER_TABLE: sa.Table = SellerRating.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Rating:
    """A summary as the pages show it."""

    count: int
    total: int
    per_star: dict[int, int]

    @property
    def average(self) -> float:
        return self.total / self.count if self.count else 0.0

    def share(self, stars: int) -> int:
        """The percentage of reviews with ``stars`` (rounded), for the distribution bars."""
        return round(100 * self.per_star.get(stars, 0) / self.count) if self.count else 0


NO_RATING = Rating(0, 0, {s: 0 for s in STARS})


def _rating(row: _Summary | None) -> Rating:
    if row is None:
        return NO_RATING
    return Rating(
        row.review_count,
        row.stars_sum,
        {s: int(getattr(row, f"stars_{s}")) for s in STARS},
    )


def product_rating(product_id: int) -> Rating:
    return _rating(db.session.get(ProductRating, product_id, populate_existing=True))


def seller_rating(seller_id: int) -> Rating:
    return _rating(db.session.get(SellerRating, seller_id, populate_existing=True))


def _delta(removed: int | None, added: int | None) -> dict[str, int]:
    change = {"review_count": 0, "stars_sum": 0, **{f"stars_{s}": 0 for s in STARS}}
    if removed is not None:
        change["review_count"] -= 1
        change["stars_sum"] -= removed
        change[f"stars_{removed}"] -= 1
    if added is not None:
        change["review_count"] += 1
        change["stars_sum"] += added
        change[f"stars_{added}"] += 1
    return change


def _add(table: sa.Table, key: str, key_value: int, change: dict) -> None:
    dialect = db.session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values({key: key_value, **change})
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={name: table.c[name] + value for name, value in change.items()},
        )
    )


def apply_change(product_id: int, seller_id: int, removed: int | None, added: int | None) -> None:
    """Inside the review's transaction: a review of ``removed`` stars no longer counts and one
    of ``added`` stars does (None: nothing). The product's row, then the seller's."""
    change = _delta(removed, added)
    if not any(change.values()):
        return
    _add(PRODUCT_TABLE, "product_id", product_id, change)
    _add(SELLER_TABLE, "seller_id", seller_id, change)

"""Paging through SQL lists: one page of an ordered statement with its row count, and the LIKE
pattern the lists' text filters use. Every paged list of every blueprint goes through here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.core.extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching any value that contains ``text`` as typed: ``%``, ``_`` and
    ``\\`` in it match only themselves (use with ``escape="\\"``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def count_rows(stmt: sa.Select, column: Any) -> int:
    """How many rows ``stmt`` selects, counting ``column`` (its ordering is dropped)."""
    return db.session.scalar(stmt.with_only_columns(sa.func.count(column)).order_by(None)) or 0


def page_of(stmt: sa.Select, total: int, page: int, per_page: int, unique: bool = False) -> Page:
    """Page ``page`` of the ordered ``stmt`` that selects ``total`` rows, ``per_page`` a page;
    a page before the first shows the first and one past the last shows the last. ``unique``
    for a statement with joined eager loads of collections."""
    page = min(max(page, 1), max(1, -(-total // per_page)))
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return Page(
        items=list(rows.unique() if unique else rows), page=page, per_page=per_page, total=total
    )


def paginate(stmt: sa.Select, key: Any, order: tuple[Any, ...], page: int, per_page: int) -> Page:
    """Page ``page`` of ``stmt`` sorted by ``order``; the rows are counted through a subquery
    selecting only the ``key`` column (so the statement's eager loads do not weigh on the count)."""
    total = (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(
                stmt.with_only_columns(key).order_by(None).subquery()
            )
        )
        or 0
    )
    return page_of(stmt.order_by(*order), total, page, per_page)

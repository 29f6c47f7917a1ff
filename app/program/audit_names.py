"""The names of the things audit rows point at (listings, sellers, off-line sales, counties), for
the staff audit log: only things that still exist are found, so only live pages are linked."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa

from app.catalog.models import Product, Seller
from app.core.extensions import db
from app.program.sales_models import OfflineSale
from app.reference.models import County

KINDS = frozenset({"product", "seller", "offline_sale", "county"})


def _columns(locale: str) -> dict[str, tuple[Any, Any]]:
    return {
        "product": (Product.id, Product.title),
        "seller": (Seller.id, Seller.display_name),
        "offline_sale": (OfflineSale.id, OfflineSale.place),
        "county": (County.id, County.name_en if locale == "en" else County.name_fa),
    }


def existing_names(wanted: Mapping[str, Collection[int]], locale: str) -> dict[str, dict[int, str]]:
    """For each kind of :data:`KINDS` asked for with some ids: the ids that still exist, with
    their names in ``locale`` (one query per kind). Other kinds are left out."""
    columns = _columns(locale)
    found: dict[str, dict[int, str]] = {}
    for kind, ids in wanted.items():
        if kind in columns and ids:
            id_column, name_column = columns[kind]
            found[kind] = dict(
                db.session.execute(sa.select(id_column, name_column).where(id_column.in_(ids)))
                .tuples()
                .all()
            )
    return found
